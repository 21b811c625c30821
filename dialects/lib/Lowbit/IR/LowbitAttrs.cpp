//===- LowbitAttrs.cpp - lowbit attributes ------------------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//

#include "lowbit/Dialect/Lowbit/LowbitAttrs.h"
#include "lowbit/Dialect/Lowbit/LowbitDialect.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::lowbit;

#include "lowbit/Dialect/Lowbit/LowbitEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "lowbit/Dialect/Lowbit/LowbitAttrs.cpp.inc"

void LowbitDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "lowbit/Dialect/Lowbit/LowbitAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

unsigned SchemeAttr::getBitWidth() const {
  switch (getFormat()) {
  case QuantFormat::Int2:
  case QuantFormat::UInt2:
    return 2;
  case QuantFormat::Int3:
  case QuantFormat::UInt3:
    return 3;
  case QuantFormat::Int4:
  case QuantFormat::UInt4:
  case QuantFormat::NF4:
  case QuantFormat::FP4E2M1:
    return 4;
  case QuantFormat::Int5:
  case QuantFormat::UInt5:
    return 5;
  case QuantFormat::Int6:
  case QuantFormat::UInt6:
    return 6;
  case QuantFormat::Int7:
  case QuantFormat::UInt7:
    return 7;
  case QuantFormat::Int8:
  case QuantFormat::UInt8:
  case QuantFormat::FP8E4M3:
  case QuantFormat::FP8E5M2:
    return 8;
  }
  llvm_unreachable("unknown quant format");
}

bool SchemeAttr::isInteger() const {
  return getFormat() <= QuantFormat::UInt8;
}

bool SchemeAttr::isSignedInteger() const {
  return getFormat() <= QuantFormat::Int8;
}

int64_t SchemeAttr::getQMin() const {
  assert(isInteger() && "only integer formats have a code range");
  return isSignedInteger() ? -(int64_t(1) << (getBitWidth() - 1)) : 0;
}

int64_t SchemeAttr::getQMax() const {
  assert(isInteger() && "only integer formats have a code range");
  return isSignedInteger() ? (int64_t(1) << (getBitWidth() - 1)) - 1
                           : (int64_t(1) << getBitWidth()) - 1;
}

LogicalResult
SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                   QuantFormat format, Granularity granularity, int64_t axis,
                   int64_t groupSize, bool symmetric, FloatType scaleType) {
  if (!scaleType || !(scaleType.isF16() || scaleType.isBF16() ||
                      scaleType.isF32()))
    return emitError() << "scale type must be f16, bf16 or f32, got "
                       << scaleType;
  if (axis < 0)
    return emitError() << "axis must be non-negative, got " << axis;
  if (granularity == Granularity::Group && groupSize <= 0)
    return emitError() << "group size must be positive, got " << groupSize;
  if (granularity != Granularity::Group && groupSize != 0)
    return emitError() << "group size is only valid with group granularity";
  if (granularity == Granularity::PerTensor && axis != 0)
    return emitError() << "per_tensor granularity takes no axis";
  if (!symmetric && format > QuantFormat::UInt8)
    return emitError() << "affine zero points need an integer format, got "
                       << stringifyQuantFormat(format);
  return success();
}

Attribute SchemeAttr::parse(AsmParser &parser, Type) {
  auto loc = parser.getCurrentLocation();
  StringRef formatName, granularityName, modeName;
  int64_t axis = 0, groupSize = 0;
  Type scaleType;
  if (parser.parseLess() || parser.parseKeyword(&formatName) ||
      parser.parseComma() || parser.parseKeyword(&granularityName))
    return {};
  std::optional<QuantFormat> format = symbolizeQuantFormat(formatName);
  if (!format) {
    parser.emitError(loc) << "unknown quantization format '" << formatName
                          << "'";
    return {};
  }
  std::optional<Granularity> granularity =
      symbolizeGranularity(granularityName);
  if (!granularity) {
    parser.emitError(loc) << "unknown granularity '" << granularityName
                          << "' (expected per_tensor, per_channel or group)";
    return {};
  }
  if (*granularity != Granularity::PerTensor) {
    if (parser.parseLParen() || parser.parseKeyword("axis") ||
        parser.parseEqual() || parser.parseInteger(axis))
      return {};
    if (*granularity == Granularity::Group &&
        (parser.parseComma() || parser.parseKeyword("size") ||
         parser.parseEqual() || parser.parseInteger(groupSize)))
      return {};
    if (parser.parseRParen())
      return {};
  }
  if (parser.parseComma() || parser.parseKeyword(&modeName))
    return {};
  if (modeName != "symmetric" && modeName != "affine") {
    parser.emitError(loc) << "expected 'symmetric' or 'affine', got '"
                          << modeName << "'";
    return {};
  }
  if (parser.parseComma() || parser.parseKeyword("scale") ||
      parser.parseEqual() || parser.parseType(scaleType) ||
      parser.parseGreater())
    return {};
  auto floatType = dyn_cast<FloatType>(scaleType);
  if (!floatType) {
    parser.emitError(loc) << "scale type must be a float type, got "
                          << scaleType;
    return {};
  }
  return parser.getChecked<SchemeAttr>(loc, parser.getContext(), *format,
                                       *granularity, axis, groupSize,
                                       modeName == "symmetric", floatType);
}

void SchemeAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyQuantFormat(getFormat()) << ", "
          << stringifyGranularity(getGranularity());
  if (getGranularity() == Granularity::PerChannel)
    printer << "(axis = " << getAxis() << ")";
  else if (getGranularity() == Granularity::Group)
    printer << "(axis = " << getAxis() << ", size = " << getGroupSize() << ")";
  printer << ", " << (getSymmetric() ? "symmetric" : "affine")
          << ", scale = " << getScaleType() << ">";
}
