//===- SchemeAttrTest.cpp - #lowbit.scheme helpers ---------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The bit widths and code ranges drive packing sizes and the precision ILP;
// they have no textual IR form, so they are tested here.
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"
#include "lowbit/Dialect/Lowbit/LowbitDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/AsmParser/AsmParser.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::lowbit;

namespace {
class SchemeAttrTest : public ::testing::Test {
protected:
  SchemeAttrTest() { ctx.loadDialect<LowbitDialect>(); }

  SchemeAttr make(QuantFormat format, bool symmetric = true) {
    return SchemeAttr::get(&ctx, format, Granularity::PerTensor, int64_t{0},
                           int64_t{0}, symmetric,
                           cast<FloatType>(Float32Type::get(&ctx)));
  }

  MLIRContext ctx;
};
} // namespace

TEST_F(SchemeAttrTest, BitWidths) {
  EXPECT_EQ(make(QuantFormat::Int2).getBitWidth(), 2u);
  EXPECT_EQ(make(QuantFormat::UInt3).getBitWidth(), 3u);
  EXPECT_EQ(make(QuantFormat::NF4).getBitWidth(), 4u);
  EXPECT_EQ(make(QuantFormat::FP4E2M1).getBitWidth(), 4u);
  EXPECT_EQ(make(QuantFormat::FP8E5M2).getBitWidth(), 8u);
  EXPECT_EQ(make(QuantFormat::Int8).getBitWidth(), 8u);
}

TEST_F(SchemeAttrTest, IntegerCodeRanges) {
  EXPECT_EQ(make(QuantFormat::Int4).getQMin(), -8);
  EXPECT_EQ(make(QuantFormat::Int4).getQMax(), 7);
  EXPECT_EQ(make(QuantFormat::UInt4).getQMin(), 0);
  EXPECT_EQ(make(QuantFormat::UInt4).getQMax(), 15);
  EXPECT_EQ(make(QuantFormat::Int8).getQMin(), -128);
  EXPECT_EQ(make(QuantFormat::UInt2).getQMax(), 3);
  EXPECT_FALSE(make(QuantFormat::NF4).isInteger());
  EXPECT_TRUE(make(QuantFormat::UInt8).isInteger());
  EXPECT_FALSE(make(QuantFormat::UInt8).isSignedInteger());
}

TEST_F(SchemeAttrTest, ParsePrintRoundTrip) {
  const char *text =
      "#lowbit.scheme<int4, group(axis = 1, size = 128), symmetric, scale = f16>";
  Attribute attr = parseAttribute(text, &ctx);
  auto scheme = dyn_cast_or_null<SchemeAttr>(attr);
  ASSERT_TRUE(scheme);
  EXPECT_EQ(scheme.getGroupSize(), 128);
  EXPECT_EQ(scheme.getAxis(), 1);
  EXPECT_TRUE(scheme.getScaleType().isF16());
  std::string printed;
  llvm::raw_string_ostream os(printed);
  attr.print(os);
  EXPECT_EQ(printed, text);
}

/// These two checks guard the C++ builders; the textual syntax cannot
/// express the inconsistent combinations, so lit cannot reach them.
TEST_F(SchemeAttrTest, BuilderRejectsInconsistentGranularity) {
  std::string message;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic &diag) {
    message = diag.str();
    return success();
  });
  auto loc = UnknownLoc::get(&ctx);
  FloatType f32 = Float32Type::get(&ctx);
  EXPECT_FALSE(SchemeAttr::getChecked(
      [&] { return emitError(loc); }, &ctx, QuantFormat::Int4,
      Granularity::PerChannel, int64_t{0}, int64_t{32}, true, f32));
  EXPECT_EQ(message, "group size is only valid with group granularity");
  EXPECT_FALSE(SchemeAttr::getChecked([&] { return emitError(loc); }, &ctx,
                                      QuantFormat::Int4,
                                      Granularity::PerTensor, int64_t{1},
                                      int64_t{0}, true, f32));
  EXPECT_EQ(message, "per_tensor granularity takes no axis");
}
