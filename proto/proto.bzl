"""gcl_cc_proto: C++ code from .proto files with the system protoc (Debian's protobuf-compiler).

Bazel 4's native proto_library wants @com_google_protobuf, which cannot be downloaded here, so a genrule runs
/usr/bin/protoc and a cc_library compiles its output. Imports are written from the workspace root
(`import "proto/tensor.proto";`), and `deps` names other gcl_cc_proto targets.

    gcl_cc_proto(name = "tensor_proto", srcs = ["tensor.proto"])
    # C++: #include "proto/tensor.pb.h"
"""

def gcl_cc_proto(name, srcs, deps = [], visibility = None):
    headers = [s[:-len(".proto")] + ".pb.h" for s in srcs]
    sources = [s[:-len(".proto")] + ".pb.cc" for s in srcs]

    # The .proto files of this target and of every dependency, so that protoc sees imports in the sandbox.
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [name + "_srcs"],
        outs = headers + sources,
        cmd = "protoc --proto_path=. --cpp_out=$(GENDIR) " +
              " ".join(["$(location %s)" % s for s in srcs]),
        message = "protoc " + ", ".join(srcs),
    )
    native.cc_library(
        name = name,
        srcs = sources,
        hdrs = headers,
        deps = deps + ["//third_party:protobuf"],
        visibility = visibility,
    )
