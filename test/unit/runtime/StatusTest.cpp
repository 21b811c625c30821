//===- StatusTest.cpp - runtime status codes ---------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/runtime.h"

#include <gtest/gtest.h>
#include <string>

TEST(RuntimeStatus, KnownCodesHaveNames) {
  EXPECT_EQ(std::string(lowbit_status_string(LOWBIT_OK)), "ok");
  EXPECT_EQ(std::string(lowbit_status_string(LOWBIT_CORRUPT_PACKAGE)),
            "corrupt or truncated model package");
}

TEST(RuntimeStatus, UnknownCodeIsNamedUnknown) {
  EXPECT_EQ(std::string(lowbit_status_string(
                static_cast<lowbit_status_t>(1234))),
            "unknown status");
}
