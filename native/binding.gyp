{
  "targets": [
    {
      "target_name": "merkle",
      "sources": ["merkle.c"],
      "cflags": ["-O2", "-Wno-deprecated-declarations"]
    }
  ]
}
