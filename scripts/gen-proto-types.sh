#!/usr/bin/env bash
# Generates the TypeScript types of the config protocol (lib/xds/generated/)
# from its .proto files, with the tool that ships with @grpc/proto-loader and
# the same conversion options the code loads them with (lib/xds/proto.ts
# LOADER_OPTIONS). The output is committed; lib/xds/generated.test.ts fails
# when it is not what this script makes from the current .proto files.
#   scripts/gen-proto-types.sh [OUT_DIR]   (default lib/xds/generated)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-lib/xds/generated}
rm -rf "$out"
node_modules/.bin/proto-loader-gen-types ambit/v1/mesh_config.proto ambit/v1/ca.proto \
  --longs=String --enums=String --defaults --oneofs --includeComments \
  --grpcLib=@grpc/grpc-js --outDir="$out" -I lib/xds/proto 2>/dev/null
# ES modules resolve relative imports by file name: add the extension the tool leaves out.
find "$out" -name '*.ts' -exec sed -i -E "s#(from '\.{1,2}/[^']+)';#\1.js';#" {} +
