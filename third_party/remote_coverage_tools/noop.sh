#!/bin/sh
# Coverage is not collected in this offline build; cc_test only needs these tools to exist.
exit 0
