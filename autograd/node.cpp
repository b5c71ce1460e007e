#include "autograd/node.h"

namespace qat {

std::string Node::signature() const {
  std::string out = op + "(";
  for (size_t i = 0; i < input_shapes.size(); ++i) out += (i ? ", " : "") + to_string(input_shapes[i]);
  return out + ")";
}

}  // namespace qat
