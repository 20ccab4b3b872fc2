#!/bin/sh
# SPDX-License-Identifier: MIT
# Generate ./configure and the Makefile templates.
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf --install --force
