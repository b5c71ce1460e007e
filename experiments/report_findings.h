#pragma once
// The four findings of EVALUATION.md re-checked on the report's cells, each with a verdict ("holds",
// "fails" or "n/a"), its numbers and the cells behind it.
#include <nlohmann/json.hpp>
#include <vector>

#include "experiments/report_cell.h"

namespace qat {

/// [{"id", "title", "verdict", "rule", "cells": [...], "missing": [...], ...}] for findings 1 to 4.
nlohmann::json check_findings(const std::vector<ReportCell>& cells);

}  // namespace qat
