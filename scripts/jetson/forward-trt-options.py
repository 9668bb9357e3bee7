#!/usr/bin/env python3
"""Patch onnxruntime's Node binding (js/node/src/session_options_helper.cc) so that string
properties named trt_* on a {name: 'tensorrt'} provider object reach TensorRT through the C API's
UpdateTensorRTProviderOptions. The stock binding passes only deviceId, and the TensorRT provider
ignores its ORT_TENSORRT_* environment variables once provider options are given, so Portier's
engine cache and int8 settings (core/vision/session.ts) would never arrive.
Run by scripts/build-onnxruntime-jetson.sh; idempotent; refuses when the upstream code moved."""
import sys

path = sys.argv[1]
src = open(path).read()
marker = "portier: forward trt_* provider options"
anchor = "      sessionOptions.AppendExecutionProvider_TensorRT_V2(*options);\n"
if marker in src:
    print("already patched")
    sys.exit(0)
if src.count(anchor) != 1:
    sys.exit("session_options_helper.cc changed upstream: the TensorRT branch was not found once; not patched")
code = """      // %s (Portier, scripts/build-onnxruntime-jetson.sh): the stock binding passes
      // only deviceId, so the engine cache and int8 settings would never reach TensorRT.
      if (epValue.IsObject()) {
        std::vector<std::string> trtKeys, trtValues;
        for (const auto& kvp : epValue.As<Napi::Object>()) {
          auto key = kvp.first.As<Napi::String>().Utf8Value();
          Napi::Value value = kvp.second;
          if (key.rfind("trt_", 0) == 0 && value.IsString()) {
            trtKeys.push_back(key);
            trtValues.push_back(value.As<Napi::String>().Utf8Value());
          }
        }
        std::vector<const char*> keyPtrs, valuePtrs;
        for (size_t k = 0; k < trtKeys.size(); k++) {
          keyPtrs.push_back(trtKeys[k].c_str());
          valuePtrs.push_back(trtValues[k].c_str());
        }
        if (!keyPtrs.empty()) {
          Ort::ThrowOnError(Ort::GetApi().UpdateTensorRTProviderOptions(options, keyPtrs.data(), valuePtrs.data(), keyPtrs.size()));
        }
      }
""" % marker
open(path, "w").write(src.replace(anchor, code + anchor))
print("patched")
