#!/usr/bin/env bash
# Install the system programs kg needs when they are missing: Graphviz's `dot` (rendering); with --test also
# Chromium and its WebDriver (the report tests drive the HTML report in a real headless browser) and a Java
# runtime (Spark, for `kg snapshot build`). As root it uses apt-get; otherwise it prints the one command to run and fails, so nothing
# half-works later.
set -euo pipefail

need=()
command -v dot >/dev/null 2>&1 || need+=(graphviz)
if [ "${1:-}" = "--test" ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
  command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "kg needs these system packages: ${need[*]}. Install them, e.g.: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
