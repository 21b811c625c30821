//===- Report.cpp - the --report JSON and HTML pages --------------*- C++ -*-===//
//
// SPDX-License-Identifier: Apache-2.0 WITH LLVM-exception
//
//===----------------------------------------------------------------------===//
//
// The HTML page is self-contained (inline CSS and SVG, no scripts): per
// layer a bar of its bits per weight coloured by format, and a log-scale
// bar of its predicted error, so that one glance shows where the bits went
// and why.
//
//===----------------------------------------------------------------------===//

#include "Files.h"
#include "Quantize.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstdio>
#include <map>

using json = nlohmann::json;

namespace lowbit_tool {
namespace {

std::string escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '&': out += "&amp;"; break;
    case '"': out += "&quot;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string num(double v, const char *fmt = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

/// A colour per format family, stable across reports.
const char *colourOf(const std::string &format) {
  static const std::map<std::string, const char *> colours = {
      {"f32", "#7f7f7f"},      {"int8", "#1f77b4"}, {"int4", "#2ca02c"},
      {"int3", "#ff7f0e"},     {"int2", "#d62728"}, {"nf4", "#9467bd"},
      {"fp8_e4m3", "#8c564b"}, {"fp8_e5m2", "#e377c2"},
      {"fp4_e2m1", "#bcbd22"}};
  std::string base = format.substr(0, format.find('/'));
  auto it = colours.find(base);
  return it == colours.end() ? "#17becf" : it->second;
}

std::string renderHtml(const json &r) {
  std::string h;
  llvm::raw_string_ostream os(h);
  const json &layers = r["layers"];
  os << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lowbit "
        "quantization report</title>\n<style>body{font:14px sans-serif;"
        "margin:2em}table{border-collapse:collapse}td,th{padding:2px 8px;"
        "border-bottom:1px solid #ddd;text-align:right}td:first-child,"
        "th:first-child{text-align:left}.k{color:#555}</style></head><body>\n";
  os << "<h1>lowbit quantization report</h1>\n<p class=k>"
     << escape(r.value("model", "")) << " &mdash; "
     << escape(r.value("mode", "")) << "</p>\n<table>\n";
  auto row = [&](const std::string &k, const std::string &v) {
    os << "<tr><td>" << k << "</td><td>" << v << "</td></tr>\n";
  };
  row("layers", std::to_string(layers.size()));
  row("average bits per weight", num(r.value("average_weight_bits", 0.0)));
  row("layer weight bytes", num(r.value("layer_weight_bytes", 0.0), "%.0f"));
  row("model bytes (layers + other constants)",
      num(r.value("model_bytes", 0.0), "%.0f"));
  if (r.contains("budget")) {
    const json &b = r["budget"];
    if (b.contains("bits_per_weight"))
      row("budget: bits per weight", num(b["bits_per_weight"].get<double>()));
    if (b.contains("bytes"))
      row("budget: bytes", num(b["bytes"].get<double>(), "%.0f"));
  }
  if (r.contains("solver"))
    row("assignment", "integer program, " +
                          r["solver"].value("name", std::string()) + ", " +
                          num(r["solver"].value("seconds", 0.0), "%.3f") +
                          " s");
  if (r.contains("estimated_error"))
    row("predicted error (sum over layers)",
        num(r["estimated_error"].get<double>()));
  if (r.contains("measured_error"))
    row("measured error (whole model)", num(r["measured_error"].get<double>()));
  os << "</table>\n";
  if (r.contains("error_definition"))
    os << "<p class=k>error = " << escape(r["error_definition"]) << "</p>\n";

  // Chart: bits per weight (left) and log10 predicted error (right).
  int rowH = 18, labelW = 260, barW = 260, gap = 40;
  int height = int(layers.size()) * rowH + 40;
  double minLog = 0, maxLog = -30;
  bool anyErr = false;
  for (const json &l : layers)
    if (l.contains("sensitivity") && l["sensitivity"].get<double>() > 0) {
      double v = std::log10(l["sensitivity"].get<double>());
      minLog = anyErr ? std::min(minLog, v) : v;
      maxLog = anyErr ? std::max(maxLog, v) : v;
      anyErr = true;
    }
  if (anyErr && maxLog - minLog < 1)
    minLog = maxLog - 1;
  int width = labelW + barW + gap + barW + 20;
  os << "<h2>Per layer</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
        "width=\""
     << width << "\" height=\"" << height << "\" font-size=\"11\">\n";
  os << "<text x=\"" << labelW << "\" y=\"12\">bits per weight (0-32)</text>";
  if (anyErr)
    os << "<text x=\"" << labelW + barW + gap
       << "\" y=\"12\">predicted error, log scale (1e" << num(minLog, "%.0f")
       << " .. 1e" << num(maxLog, "%.0f") << ")</text>";
  for (size_t i = 0; i < layers.size(); ++i) {
    const json &l = layers[i];
    int y = 24 + int(i) * rowH;
    std::string name = l.value("name", "");
    if (name.size() > 40)
      name = "..." + name.substr(name.size() - 37);
    double bpw = l.value("bits_per_weight", 0.0);
    std::string fmt = l.value("format", "");
    os << "<text x=\"" << labelW - 6 << "\" y=\"" << y + 12
       << "\" text-anchor=\"end\">" << escape(name) << "</text>";
    os << "<rect x=\"" << labelW << "\" y=\"" << y << "\" width=\""
       << num(barW * std::min(bpw, 32.0) / 32.0, "%.1f")
       << "\" height=\"" << rowH - 4 << "\" fill=\"" << colourOf(fmt)
       << "\"><title>" << escape(fmt) << ": " << num(bpw)
       << " bits/weight</title></rect>";
    os << "<text x=\"" << labelW + 4 + barW * std::min(bpw, 32.0) / 32.0
       << "\" y=\"" << y + 12 << "\">" << escape(fmt) << "</text>";
    if (anyErr && l.contains("sensitivity") &&
        l["sensitivity"].get<double>() > 0) {
      double v = std::log10(l["sensitivity"].get<double>());
      double w = barW * (0.05 + 0.95 * (v - minLog) / (maxLog - minLog));
      os << "<rect x=\"" << labelW + barW + gap << "\" y=\"" << y
         << "\" width=\"" << num(w, "%.1f") << "\" height=\"" << rowH - 4
         << "\" fill=\"#444\"><title>predicted "
         << num(l["sensitivity"].get<double>()) << "</title></rect>";
    }
    os << "\n";
  }
  os << "</svg>\n";

  os << "<h2>Table</h2>\n<table><tr><th>layer</th><th>op</th><th>shape</th>"
        "<th>format</th><th>bits/weight</th><th>bytes</th><th>sensitivity"
        "</th><th>estimated error</th><th>measured error</th><th>rel. output "
        "error</th></tr>\n";
  for (const json &l : layers) {
    auto opt = [&](const char *key) {
      return l.contains(key) ? num(l[key].get<double>()) : std::string("-");
    };
    os << "<tr><td>" << escape(l.value("name", "")) << "</td><td>"
       << escape(l.value("op", "")) << "</td><td>" << l["shape"][0].get<int64_t>()
       << "x" << l["shape"][1].get<int64_t>() << "</td><td>"
       << escape(l.value("format", "")) << "</td><td>"
       << num(l.value("bits_per_weight", 0.0)) << "</td><td>"
       << num(l.value("bytes", 0.0), "%.0f") << "</td><td>"
       << opt("sensitivity") << "</td><td>" << opt("estimated_error")
       << "</td><td>" << opt("measured_error") << "</td><td>"
       << opt("relative_output_error") << "</td></tr>\n";
  }
  os << "</table>\n";
  if (r.contains("embeddings") && !r["embeddings"].empty()) {
    os << "<h2>Embedding tables</h2>\n<table><tr><th>table</th><th>shape</th>"
          "<th>format</th><th>bytes</th><th>f32 bytes</th></tr>\n";
    for (const json &e : r["embeddings"])
      os << "<tr><td>" << escape(e.value("name", "")) << "</td><td>"
         << e["shape"][0].get<int64_t>() << "x"
         << e["shape"][1].get<int64_t>() << "</td><td>"
         << escape(e.value("format", "")) << "</td><td>"
         << num(e.value("bytes", 0.0), "%.0f") << "</td><td>"
         << num(e.value("float_bytes", 0.0), "%.0f") << "</td></tr>\n";
    os << "</table>\n";
  }
  os << "<p class=k>sensitivity = predicted increase of the error "
        "when only this layer is quantized to its format (loss curvature "
        "along the layer output, measured by a noise probe, times "
        "tr(dW H dW<sup>T</sup>) with H from the calibration data); measured "
        "error = the same quantity measured by running the model with only "
        "this layer quantized.</p>\n</body></html>\n";
  return h;
}

} // namespace

bool writeQuantReport(const QuantArgs &args, const QuantOutcome &outcome) {
  if (args.report.empty())
    return true;
  llvm::SmallString<256> html(args.report);
  llvm::sys::path::replace_extension(html, ".html");
  if (html == args.report)
    html += ".html";
  std::string page = renderHtml(outcome.report);
  return writeAtomically(args.report,
                         [&](llvm::raw_ostream &os) {
                           os << outcome.report.dump(2) << "\n";
                         }) &&
         writeAtomically(std::string(html),
                         [&](llvm::raw_ostream &os) { os << page; });
}

} // namespace lowbit_tool
