#pragma once
// The quantized-weight record (quant/export/quantized_weight.h) of each post-training method's result, so
// that simulation, the packed file and export read one format (PTQ.md, "The quantized-weight record").
#include "quant/export/quantized_weight.h"
#include "quant/ptq/baq.h"
#include "quant/ptq/quip.h"
#include "quant/ptq/sinq.h"

namespace qat::ptq {

/// RTN's or OPTQ's codes (integer zero points) for a weight of `shape`: per row, or [out, groups].
QuantizedWeight grid_record(const GridCodes& codes, const Shape& shape, int bits);

/// SINQ's record: tiles as groups with μ2 folded into their scales, μ1 as the column scale.
QuantizedWeight sinq_record(const SinqResult& r, const Shape& shape, int bits);

/// QuIP's record: odd codes c = 2k − (2^b − 1) at stride 2, scale s/(2^b − 1), zero 0, U, V, 1/D.
QuantizedWeight quip_record(const QuipResult& r, const Shape& shape, int bits);

/// BAQ's record: codes, levels per column and the row ranges their grids span.
QuantizedWeight baq_record(const BaqResult& r, const Shape& shape);

}  // namespace qat::ptq
