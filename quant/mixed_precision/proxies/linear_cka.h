#pragma once
// Linear CKA (Kornblith et al. 2019) between layer features, and OMPQ's orthogonality matrix over all
// layers (MAC-AutoML/OMPQ: mixed_bit/ORM.py).
#include <Eigen/Dense>
#include <vector>

namespace qat {

/// K̃ = J·X·Xᵀ·J (J = I − 11ᵀ/n) of features X (n samples × D).
Eigen::MatrixXd centered_gram(const Eigen::MatrixXd& x);

/// ⟨K̃_x, K̃_y⟩_F/(‖K̃_x‖_F·‖K̃_y‖_F): 1 for features equal up to an orthogonal map and a scale.
double linear_cka(const Eigen::MatrixXd& x, const Eigen::MatrixXd& y);

/// ORM_ij = linear CKA of layers i and j (symmetric, unit diagonal); every X with the same n rows.
Eigen::MatrixXd orthogonality_matrix(const std::vector<Eigen::MatrixXd>& features);

}  // namespace qat
