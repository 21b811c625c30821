//===- ContribSchemas.cpp - ONNX Runtime contrib ops for libonnx --*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// Schemas follow ONNX Runtime's contrib operator documentation
// (docs/ContribOperators.md); only the type and shape rules matter here, the
// semantics live in the converter and the interpreter's kernels.
//
//===----------------------------------------------------------------------===//

#include "ContribSchemas.h"

#include "onnx/defs/schema.h"
#include "onnx/defs/shape_inference.h"
#include "onnx/onnx_pb.h"

#include <mutex>

using namespace mlir;
using namespace mlir::lowbit;

namespace {

constexpr const char *kMicrosoft = "com.microsoft";

/// Y = A · dequant(B)ᵀ (+ bias): Y is A with its last dimension K -> N.
void inferMatMulNBits(onnx::InferenceContext &ctx) {
  onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
  if (!onnx::hasInputShape(ctx, 0))
    return;
  const onnx::TensorShapeProto &a = onnx::getInputShape(ctx, 0);
  if (a.dim_size() < 1)
    fail_shape_inference("MatMulNBits: A must have rank >= 1");
  const onnx::AttributeProto *n = ctx.getAttribute("N");
  const onnx::AttributeProto *k = ctx.getAttribute("K");
  if (!n || !k || n->i() <= 0 || k->i() <= 0)
    fail_shape_inference("MatMulNBits: K and N must be positive");
  const auto &last = a.dim(a.dim_size() - 1);
  if (last.has_dim_value() && last.dim_value() != k->i())
    fail_shape_inference("MatMulNBits: A's last dimension is ",
                         last.dim_value(), " but K = ", k->i());
  onnx::TensorShapeProto *y = onnx::getOutputShape(ctx, 0);
  for (int i = 0; i + 1 < a.dim_size(); ++i)
    *y->add_dim() = a.dim(i);
  y->add_dim()->set_dim_value(n->i());
}

onnx::OpSchema matMulNBitsSchema() {
  onnx::OpSchema s;
  s.SetName("MatMulNBits")
      .SetDomain(kMicrosoft)
      .SinceVersion(1)
      .SetDoc("Matrix product with B block-quantized along K (ONNX Runtime).")
      .Attr("K", "Input feature dimension.", onnx::AttributeProto::INT)
      .Attr("N", "Output feature dimension.", onnx::AttributeProto::INT)
      .Attr("bits", "Bits per quantized weight.", onnx::AttributeProto::INT,
            static_cast<int64_t>(4))
      .Attr("block_size", "Weights per scale along K.",
            onnx::AttributeProto::INT)
      .Attr("accuracy_level", "Minimum accuracy of A's computation.",
            onnx::AttributeProto::INT, static_cast<int64_t>(0))
      .Input(0, "A", "Activations [..., K].", "T1")
      .Input(1, "B", "Packed weights [N, blocks, blob].", "T2")
      .Input(2, "scales", "Per-block scales.", "T1")
      .Input(3, "zero_points", "Per-block zero points.", "T3",
             onnx::OpSchema::Optional)
      .Input(4, "g_idx", "Group index per K.", "T4", onnx::OpSchema::Optional)
      .Input(5, "bias", "Bias [N].", "T1", onnx::OpSchema::Optional)
      .Output(0, "Y", "A · dequant(B)ᵀ + bias.", "T1")
      .TypeConstraint("T1", {"tensor(float)", "tensor(float16)",
                             "tensor(bfloat16)"},
                      "Activation type.")
      .TypeConstraint("T2", {"tensor(uint8)", "tensor(int32)"},
                      "Packed weight storage.")
      .TypeConstraint("T3", {"tensor(uint8)", "tensor(int32)",
                             "tensor(float16)", "tensor(float)",
                             "tensor(bfloat16)"},
                      "Zero point type.")
      .TypeConstraint("T4", {"tensor(int32)"}, "Group index type.")
      .TypeAndShapeInferenceFunction(inferMatMulNBits);
  return s;
}

} // namespace

void mlir::lowbit::registerContribSchemas() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto &ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance();
    if (!ranges.Map().count(kMicrosoft))
      ranges.AddDomainToVersion(kMicrosoft, 1, 1);
    if (!onnx::OpSchemaRegistry::Schema("MatMulNBits", 1, kMicrosoft))
      onnx::RegisterSchema(matMulNBitsSchema());
  });
}

bool mlir::lowbit::contribOpsKnown(const onnx::ModelProto &model) {
  registerContribSchemas();
  for (const onnx::NodeProto &node : model.graph().node()) {
    const std::string &domain = node.domain();
    if (domain.empty() || domain == "ai.onnx")
      continue;
    if (!onnx::OpSchemaRegistry::Schema(node.op_type(), 1, domain))
      return false;
  }
  return true;
}
