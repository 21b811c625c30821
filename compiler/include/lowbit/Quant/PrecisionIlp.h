//===- PrecisionIlp.h - the mixed-precision integer program -------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// One format per layer, minimizing total predicted loss under resource
// budgets, as a 0/1 integer linear program solved by COIN-OR CBC:
//
//   min  sum_l,c cost[l][c] x[l][c]
//   s.t. sum_c x[l][c] = 1                        for every layer l
//        sum_l,c use[r][l][c] x[l][c] <= limit[r]  for every budget r
//        x in {0, 1}
//
//===----------------------------------------------------------------------===//

#ifndef LOWBIT_QUANT_PRECISIONILP_H
#define LOWBIT_QUANT_PRECISIONILP_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>
#include <vector>

namespace mlir::lowbit {

struct IlpLayer {
  std::vector<double> cost;              ///< per candidate
  std::vector<std::vector<double>> use;  ///< [budget][candidate]
};

struct IlpBudget {
  std::string name; ///< "bits", "bytes", "latency": for messages
  double limit;
};

struct IlpSolution {
  std::vector<int> choice; ///< candidate index per layer
  double objective = 0;
  bool provenOptimal = false;
};

/// The smallest total of budget `r` any assignment can reach.
double minimumUse(ArrayRef<IlpLayer> layers, size_t r);

/// Solves the program; failure with `error` set when it is infeasible or
/// the solver fails.
FailureOr<IlpSolution> solvePrecisionIlp(ArrayRef<IlpLayer> layers,
                                         ArrayRef<IlpBudget> budgets,
                                         std::string &error);

} // namespace mlir::lowbit

#endif // LOWBIT_QUANT_PRECISIONILP_H
