//===- PrecisionIlp.cpp - the mixed-precision integer program -----*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Quant/PrecisionIlp.h"

#include "llvm/ADT/STLExtras.h"

#include <Cbc_C_Interface.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

using namespace mlir;
using namespace mlir::lowbit;

double mlir::lowbit::minimumUse(ArrayRef<IlpLayer> layers, size_t r) {
  double total = 0;
  for (const IlpLayer &l : layers)
    total += *std::min_element(l.use[r].begin(), l.use[r].end());
  return total;
}

FailureOr<IlpSolution>
mlir::lowbit::solvePrecisionIlp(ArrayRef<IlpLayer> layers,
                                ArrayRef<IlpBudget> budgets,
                                std::string &error) {
  for (auto [r, b] : llvm::enumerate(budgets)) {
    double least = minimumUse(layers, r);
    if (least > b.limit * (1 + 1e-12)) {
      error = "infeasible " + b.name + " budget";
      return failure();
    }
  }
  // Costs span many decades (1e-9 .. 1e1); scale them so CBC's tolerances
  // (absolute, about 1e-6 .. 1e-9) stay far below the differences that
  // matter.
  double maxCost = 0;
  for (const IlpLayer &l : layers)
    for (double c : l.cost)
      maxCost = std::max(maxCost, std::fabs(c));
  double scale = maxCost > 0 ? 1e6 / maxCost : 1.0;

  std::unique_ptr<Cbc_Model, void (*)(Cbc_Model *)> model(Cbc_newModel(),
                                                          Cbc_deleteModel);
  Cbc_setLogLevel(model.get(), 0);
  Cbc_setObjSense(model.get(), 1.0);
  std::vector<std::vector<int>> column(layers.size());
  int next = 0;
  for (auto [l, layer] : llvm::enumerate(layers))
    for (size_t c = 0; c < layer.cost.size(); ++c) {
      Cbc_addCol(model.get(), "", 0.0, 1.0, layer.cost[c] * scale, 1, 0,
                 nullptr, nullptr);
      column[l].push_back(next++);
    }
  for (auto [l, layer] : llvm::enumerate(layers)) {
    std::vector<double> ones(layer.cost.size(), 1.0);
    Cbc_addRow(model.get(), "", int(ones.size()), column[l].data(),
               ones.data(), 'E', 1.0);
  }
  for (auto [r, b] : llvm::enumerate(budgets)) {
    std::vector<int> cols;
    std::vector<double> coefs;
    // Budgets in bits reach 1e9: normalize the row by its limit.
    double norm = b.limit > 0 ? b.limit : 1.0;
    for (auto [l, layer] : llvm::enumerate(layers))
      for (size_t c = 0; c < layer.cost.size(); ++c) {
        cols.push_back(column[l][c]);
        coefs.push_back(layer.use[r][c] / norm);
      }
    Cbc_addRow(model.get(), "", int(cols.size()), cols.data(), coefs.data(),
               'L', b.limit / norm);
  }
  Cbc_setAllowableGap(model.get(), 0.0);
  Cbc_setAllowableFractionGap(model.get(), 0.0);
  Cbc_setMaximumSeconds(model.get(), 60.0);
  Cbc_solve(model.get());
  if (Cbc_isProvenInfeasible(model.get())) {
    error = "the solver proved the budgets infeasible together";
    return failure();
  }
  const double *x = Cbc_getColSolution(model.get());
  if (!x) {
    error = "the MILP solver found no solution";
    return failure();
  }
  IlpSolution sol;
  sol.provenOptimal = Cbc_isProvenOptimal(model.get());
  for (auto [l, layer] : llvm::enumerate(layers)) {
    int best = 0;
    for (size_t c = 0; c < layer.cost.size(); ++c)
      if (x[column[l][c]] > x[column[l][best]])
        best = int(c);
    sol.choice.push_back(best);
    sol.objective += layer.cost[best];
  }
  // The rounded solution must satisfy the budgets exactly.
  for (auto [r, b] : llvm::enumerate(budgets)) {
    double used = 0;
    for (auto [l, layer] : llvm::enumerate(layers))
      used += layer.use[r][sol.choice[l]];
    if (used > b.limit * (1 + 1e-9)) {
      error = "the MILP solver returned an assignment over the " + b.name +
              " budget";
      return failure();
    }
  }
  return sol;
}
