#!/usr/bin/env bash
# AOT-publishes linux-x64 and fails on any trim/AOT warning (IL2xxx/IL3xxx) or on anything beside the binary.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/artifacts/publish-check"
rm -rf "$out"
log=$(mktemp)
if ! dotnet publish "$root/Octopus/Octopus.csproj" -c Release -r linux-x64 -o "$out" -nologo -p:TreatWarningsAsErrors=true >"$log" 2>&1; then
  cat "$log"; echo "AOT publish failed"; exit 1
fi
if grep -E "warning (IL[23][0-9]{3})" "$log"; then
  echo "AOT publish printed trim/AOT warnings"; exit 1
fi
extra=$(cd "$out" && ls -A | grep -v -x -e octopus -e octopus.dbg || true)
if [ -n "$extra" ]; then
  echo "publish output holds more than the executable: $extra"; exit 1
fi
echo "AOT publish clean: $(du -h "$out/octopus" | cut -f1) $out/octopus"
