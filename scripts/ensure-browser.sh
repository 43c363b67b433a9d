#!/usr/bin/env bash
# The browser tests drive Debian's chromium through Playwright (Playwright's own browser
# download is not used: it needs the internet). Install chromium and CJK fonts if missing.
set -euo pipefail
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "noto sans cjk" || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
echo "安装浏览器测试依赖：${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
elif command -v sudo >/dev/null; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
else
  echo "请先安装：apt-get install ${need[*]}（浏览器测试需要）" >&2
  exit 1
fi
