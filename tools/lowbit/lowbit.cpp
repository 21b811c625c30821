//===- lowbit.cpp - the lowbit user CLI --------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/InitAll.h"

#include <CLI/CLI.hpp>

int main(int argc, char **argv) {
  CLI::App app{"lowbit: ahead-of-time compiler for quantized networks"};
  app.require_subcommand(1);
  app.add_subcommand("version", "Print the lowbit version")->callback([] {
    std::printf("lowbit 0.1.0\n");
  });
  CLI11_PARSE(app, argc, argv);
  return 0;
}
