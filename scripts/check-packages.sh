#!/usr/bin/env bash
# Checks every published package's manifest and exports map after a build:
# publint (files, exports, sideEffects) and arethetypeswrong (types resolve
# from node10, node16 ESM, node16 CJS and bundler resolution). Both work on a
# local `pack`, with no network. Then what the npm page shows, read from the
# packed tarball: README.md, LICENSE, and the description, license,
# keywords, homepage, bugs and repository fields
# (scripts/check-package-files.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in packages/*/; do
  if [ ! -d "$pkg/dist" ]; then
    echo "check-packages: $pkg has no dist/; run 'pnpm build' first" >&2
    exit 1
  fi
  (cd "$pkg" && pnpm exec publint --strict && pnpm exec attw --pack . --format table-flipped)
done
node scripts/check-package-files.mjs packages/*/
echo "check-packages: all packages pass publint and attw, and ship their README, LICENSE and metadata"
