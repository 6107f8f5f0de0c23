"""What a set of Bazel targets is made of: every source file and every target they reach through `deps`.

core_sources(name, deps) writes <name>.txt with one line per source file ("src models/layers.cc") and per target
("dep //models:layers", "dep @libtorch//:torch"), sorted, for //tests/gpu:cmake_core_sources_test to compare with
CMakeLists.txt. Its runfiles are that file and the project's source files themselves (headers included), so that
a test can build them with CMake from the runfiles alone.
"""

CoreSourcesInfo = provider(fields = ["srcs", "labels"])

def _collect_impl(target, ctx):
    srcs = []
    for attr in ["srcs", "hdrs"]:
        for t in getattr(ctx.rule.attr, attr, []):
            # The project's own files; an external repository's (LibTorch's headers) are its business.
            srcs += [f for f in t.files.to_list() if f.is_source and f.owner.workspace_name == ""]
    deps = [d for d in getattr(ctx.rule.attr, "deps", []) if CoreSourcesInfo in d]
    return [CoreSourcesInfo(
        srcs = depset(srcs, transitive = [d[CoreSourcesInfo].srcs for d in deps]),
        labels = depset([str(target.label)], transitive = [d[CoreSourcesInfo].labels for d in deps]),
    )]

_collect = aspect(
    implementation = _collect_impl,
    attr_aspects = ["deps"],
)

def _core_sources_impl(ctx):
    srcs = depset(transitive = [d[CoreSourcesInfo].srcs for d in ctx.attr.deps]).to_list()
    labels = depset(transitive = [d[CoreSourcesInfo].labels for d in ctx.attr.deps]).to_list()
    lines = sorted(["src " + f.short_path for f in srcs] + ["dep " + l for l in labels])
    out = ctx.actions.declare_file(ctx.label.name + ".txt")
    ctx.actions.write(out, "\n".join(lines) + "\n")
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out] + srcs))]

core_sources = rule(
    implementation = _core_sources_impl,
    attrs = {"deps": attr.label_list(aspects = [_collect])},
)
