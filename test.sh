#!/usr/bin/env bash
# One command runs every test: the services' Maven build (unit, slice, jar-level end-to-end tests)
# and the training scripts' pytest suite. On a fresh Debian machine (JDK 17, Maven, Node, root) it
# first installs the Debian packages the tests need. CI's .ci/run calls this script.
set -euo pipefail
cd "$(dirname "$0")"

# Python packages for the training scripts: Debian's builds, visible to /usr/bin/python3 only
# (PyPI is not reachable). Without recommends the install is a fraction of the 1.4 GB it would be.
# docker-compose (v1) only validates docker-compose.yml offline; no engine is installed or needed.
# chromium and chromium-driver run the dashboard's browser test headless. curl runs the Worker pods'
# preStop script in WorkerDrainHookTest and the README's uploads in DatasetsIT. matplotlib draws nn.py's
# curve.png; the scripts run without it, and the tests check both. python3-optuna (3.1) is the reference
# the Boss's TPE sampler is checked against (TpeReferenceTest drives Optuna's own Parzen estimator); that
# test skips without it, so a machine lacking it would pass without the comparison ever running.
packages=(python3 python3-torch python3-sklearn python3-pandas python3-numpy python3-pytest python3-matplotlib
  python3-optuna docker-compose chromium chromium-driver curl)
# KubernetesManifestTest renders deploy/k8s with `kubectl kustomize`: any kubectl on PATH will do (ours
# have kustomize v5); else Debian's kubernetes-client (kubectl 1.20, kustomize v2), which the
# manifests are kept compatible with.
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages: ${missing[*]}; install them with" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Maven runs everything, pytest included (the python-scripts module); extra arguments pass through.
exec mvn -B -ntp verify "$@"
