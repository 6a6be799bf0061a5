{
  "targets": [
    {
      "target_name": "gptw_native",
      "sources": ["src/addon.cc", "src/decode-gemm.cc", "src/gemm.cc", "src/kernels.cc", "src/thread_pool.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-fvisibility=hidden", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros", "-freciprocal-math"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] },
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
