#include "quant/bit_freeze.h"

#include <cmath>
#include <limits>

namespace qat {
namespace {

// Relative miss of the rounded totals against the target at which the search stops.
constexpr double kTolerance = 0.005;
// A learned width this close to an integer is that integer (θ of a frozen width sits 1e-5 inside it).
constexpr double kOnInteger = 1e-3;

// A learned width, the integer it is frozen at, and where it sits in the layer costs.
struct Candidate {
  Quantizer* quantizer = nullptr;
  size_t layer = 0;
  bool weight_side = true;
  double learned = 0;
  int bits = 0;
  int bits_min = 0, bits_max = 0;

  double distortion(int b) const { return std::abs(learned - b); }
};

bool takes_either_neighbour(const Quantizer& q) {
  if (!q.options().learn_bits) return false;
  const double b = q.learned_bits();
  return std::abs(b - std::nearbyint(b)) > kOnInteger;
}

Candidate candidate(Quantizer* q, size_t layer, bool weight_side) {
  return {.quantizer = q,
          .layer = layer,
          .weight_side = weight_side,
          .learned = q->learned_bits(),
          .bits = q->bits(),
          .bits_min = static_cast<int>(std::ceil(q->options().bits_min)),
          .bits_max = static_cast<int>(std::floor(q->options().bits_max))};
}

std::vector<Candidate> candidates(const QuantizedModel& model) {
  std::vector<Candidate> out;
  for (size_t i = 0; i < model.layers.size(); ++i) {
    const QuantizedLayer& layer = *model.layers[i].layer;
    if (layer.weight_quantizer() && takes_either_neighbour(*layer.weight_quantizer()))
      out.push_back(candidate(layer.weight_quantizer(), i, true));
    if (layer.input_quantizer() && takes_either_neighbour(*layer.input_quantizer()))
      out.push_back(candidate(layer.input_quantizer(), i, false));
  }
  return out;
}

ModelCost cost_with(std::vector<LayerCost> layers, const std::vector<Candidate>& choices) {
  for (const Candidate& c : choices)
    (c.weight_side ? layers[c.layer].weight_bits : layers[c.layer].act_bits) = c.bits;
  return total_cost(layers);
}

double relative_miss(double value, double target) { return std::abs(value - target) / target; }

// Sum of the relative misses of every total the target constrains.
double miss(const ModelCost& cost, const CostTarget& target) {
  double m = 0;
  if (target.avg_bits > 0) {
    if (cost.avg_weight_bits > 0) m += relative_miss(cost.avg_weight_bits, target.avg_bits);
    if (cost.avg_act_bits > 0) m += relative_miss(cost.avg_act_bits, target.avg_bits);
  }
  if (target.gbops > 0) m += relative_miss(cost.gbops, target.gbops);
  return m;
}

// Greedy: of the single one-bit moves that reduce the miss, take the one that moves the widths least away
// from their learned values (⌊b⌋ ↔ ⌈b⌉ before any further step), the larger reduction among equals.
void meet_target(std::vector<Candidate>& choices, const std::vector<LayerCost>& layers,
                 const CostTarget& target) {
  double current = miss(cost_with(layers, choices), target);
  while (current > kTolerance) {
    Candidate* best = nullptr;
    int best_bits = 0;
    double best_added = std::numeric_limits<double>::infinity(), best_miss = current;
    for (Candidate& c : choices) {
      const int from = c.bits;
      for (const int to : {from - 1, from + 1}) {
        if (to < c.bits_min || to > c.bits_max) continue;
        c.bits = to;
        const double m = miss(cost_with(layers, choices), target),
                     added = c.distortion(to) - c.distortion(from);
        c.bits = from;
        if (m < current && (added < best_added - 1e-9 || (added < best_added + 1e-9 && m < best_miss))) {
          best = &c;
          best_bits = to;
          best_added = added;
          best_miss = m;
        }
      }
    }
    if (!best) return;
    best->bits = best_bits;
    current = best_miss;
  }
}

}  // namespace

void freeze_learned_bits(const QuantizedModel& model, const CostTarget& target) {
  std::vector<Candidate> choices = candidates(model);
  if (target.avg_bits > 0 || target.gbops > 0) meet_target(choices, layer_costs(model), target);
  for (const Candidate& c : choices) c.quantizer->freeze_bits(c.bits);
  for (Quantizer* q : model.quantizers()) q->freeze_bits(q->bits());
}

}  // namespace qat
