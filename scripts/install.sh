#!/usr/bin/env bash
# Create or update the project's virtual environments. Idempotent; called by make.
#   scripts/install.sh dev         -> .venv: shared package (+ its test support), services, localaws, the tools, dev tools (Python 3.11+)
#   scripts/install.sh localstack  -> .venv-localstack: pinned localstack-core + the local Lambda executor (Python 3.13)
#   scripts/install.sh checkov     -> .venv-checkov: the pinned IaC scanner (its boto3 pin clashes with .venv's)
set -euo pipefail
cd "$(dirname "$0")/.."

pip_quiet() {  # pip install, without the noise of unused local index folders; keeps pip's exit status
  "$1/bin/python" -m pip install --disable-pip-version-check -q "${@:2}" 2>&1 | { grep -v "^WARNING: Location" || true; }
}

find_python() {  # $1 = version, e.g. 3.13: the first interpreter that really runs as that version
  local v=$1 root candidate
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for candidate in "python$v" "$root/versions/$v"*/bin/python"$v"; do
    if "$candidate" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

case "${1:-}" in
  dev)
    py=${DEV_PYTHON:-$(find_python 3.11 || command -v python3)}
    [ -x .venv/bin/python ] || "$py" -m venv .venv
    pip_quiet .venv -c constraints/dev.txt -r requirements-dev.txt \
      -e shared -e shared/testsupport -e services/api -e services/processor -e services/payment_fn -e localaws \
      -e cloudformation -e traces -e localaws/lambda_executor -e load -e chaos -e toolkit
    "$(pwd)/.venv/bin/python" -c "import flashsale, flashsale_testing, orders_api, order_processor, payment_fn, localaws, flashsale_stacks, flashsale_traces, flashsale_load, flashsale_chaos, flashsale_kit"
    touch .venv/.installed
    echo "installed .venv ($(.venv/bin/python --version))"
    ;;
  localstack)
    py=${LOCALSTACK_PYTHON:-$(find_python 3.13 || true)}
    if [ -z "$py" ]; then
      echo "LocalStack needs Python 3.13: install it (e.g. 'pyenv install 3.13') or set LOCALSTACK_PYTHON" >&2
      exit 1
    fi
    [ -x .venv-localstack/bin/python ] || "$py" -m venv .venv-localstack
    pip_quiet .venv-localstack -c constraints/localstack.txt "localstack-core[runtime]" \
      -e localaws/lambda_executor
    touch .venv-localstack/.installed
    echo "installed .venv-localstack ($(.venv-localstack/bin/python --version))"
    ;;
  checkov)
    py=${DEV_PYTHON:-$(find_python 3.11 || command -v python3)}
    [ -x .venv-checkov/bin/python ] || "$py" -m venv .venv-checkov
    pip_quiet .venv-checkov -c constraints/checkov.txt checkov
    .venv-checkov/bin/checkov --version >/dev/null
    touch .venv-checkov/.installed
    echo "installed .venv-checkov (checkov $(.venv-checkov/bin/checkov --version))"
    ;;
  *) echo "usage: $0 dev|localstack|checkov" >&2; exit 2 ;;
esac
