"""text_sources(): a package's text files, for //tests/docs:citations_test (docs/DEVELOPING.md, "Conventions").

Every package but third_party's calls it once; tests/docs/BUILD lists the packages.
"""

_PATTERNS = [
    "BUILD",
    "**/*.bzl",
    "**/*.cc",
    "**/*.h",
    "**/*.md",
    "**/*.pbtxt",
    "**/*.proto",
    "**/*.py",
    "**/*.sh",
]

def text_sources(patterns = _PATTERNS):
    native.filegroup(
        name = "text_sources",
        srcs = native.glob(patterns),
        visibility = ["//tests/docs:__pkg__"],
    )
