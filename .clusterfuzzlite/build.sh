#!/bin/bash -eu
# Same build as OSS-Fuzz: one script, two front doors.
exec bash "$SRC/shoal/fuzz/oss-fuzz/build.sh"
