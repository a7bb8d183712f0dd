#!/usr/bin/env bash
# Host preparation on fresh sandbox nodes: `nimbus deploy --prepare-only` against the same
# preparation as an Ansible playbook and a pyinfra deploy (bench/prepare/, both from PyPI in
# .venv), on 1 node (all-in-one) and 4 nodes (four-node layout); and, as a row of its own,
# the whole `nimbus deploy` (preparation and the services). First run on fresh nodes, then a
# re-run with nothing to change. Median of $RUNS (default 3). Run as root after `make release`,
# `make server` and `make bench-tools`; uses the sandbox "bench" on its own networks and
# removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NIMBUS:-.build/release/nimbus}
venv=${VENV:-.venv}
runs=${RUNS:-3}
state=/var/lib/nimbus/sandbox/bench
work=$(mktemp -d /tmp/nimbus-bench-deploy.XXXXXX)
net=(--name bench --management-network 10.246.0.0/24 --provider-network 10.247.0.0/24 --answer-file "$work/answers.txt")
export ANSIBLE_PIPELINING=1 ANSIBLE_FORKS=20 ANSIBLE_HOST_KEY_CHECKING=1 ANSIBLE_STDOUT_CALLBACK=default
export ANSIBLE_LOCAL_TEMP="$work/ansible-local" ANSIBLE_REMOTE_TEMP=/tmp/.ansible-bench

fresh() { # nodes layout: new node disks from the cached base, answer file and inventories
  "$bin" sandbox down --name bench >/dev/null 2>&1 || true
  rm -rf "$state"
  rm -f "$work/answers.txt"
  "$bin" sandbox up --nodes "$1" --layout "$2" "${net[@]}" >/dev/null
  local controller network names="" ansible="" pyinfra=""
  controller=$(sed -n 's/^CONFIG_CONTROLLER_HOST=//p' "$work/answers.txt")
  network=$(sed -n 's/^CONFIG_NETWORK_HOSTS=//p' "$work/answers.txt")
  for i in $(seq "$1"); do names="$names(\"10.246.0.1$i\", \"node$i\"), "; done
  for i in $(seq "$1"); do
    ansible="${ansible}10.246.0.1$i provider_address=10.247.0.1$i/24"$'\n'
    pyinfra="$pyinfra(\"10.246.0.1$i\", dict(common, provider_address=\"10.247.0.1$i/24\")),"
  done
  cat > "$work/inventory.ini" <<INI
[all]
${ansible}
[all:vars]
ansible_user=root
ansible_python_interpreter=/usr/bin/python3
ansible_ssh_private_key_file=$state/id_ed25519
ansible_ssh_common_args='-o UserKnownHostsFile=$state/known_hosts -o StrictHostKeyChecking=yes'
controller=$controller
network_host=$network
management_subnet=10.246.0.0/24
INI
  cat > "$work/inventory.py" <<PY
common = dict(ssh_user="root", ssh_key="$state/id_ed25519", ssh_known_hosts_file="$state/known_hosts",
              ssh_strict_host_key_checking="yes", controller="$controller", network_host="$network",
              management_subnet="10.246.0.0/24", names=[$names])
hosts = [$pyinfra]
PY
}

run_tool() { # tool
  case $1 in
  nimbus) "$bin" deploy "$work/answers.txt" --prepare-only --log-root "$work/logs" >"$work/out" 2>&1 ;;
  nimbus-full) NIMBUS_SERVER_BINARY=${NIMBUS_SERVER_BINARY:-.build-server/release/nimbus-server} \
    "$bin" deploy "$work/answers.txt" --log-root "$work/logs" >"$work/out" 2>&1 ;;
  ansible) "$venv/bin/ansible-playbook" -i "$work/inventory.ini" bench/prepare/ansible.yml >"$work/out" 2>&1 ;;
  pyinfra) "$venv/bin/pyinfra" -y --parallel 20 "$work/inventory.py" bench/prepare/pyinfra_deploy.py >"$work/out" 2>&1 ;;
  esac || { echo "$1 failed:"; tail -20 "$work/out"; exit 1; }
}

timed() { local start end; start=$(date +%s%N); run_tool "$1"; end=$(date +%s%N); echo $(( (end - start) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$bin" sandbox up --nodes 1 "${net[@]}" >/dev/null # the cached base (not timed)
echo "commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources roles templates || echo '+changes')"
echo "nodes tool first_ms rerun_ms (median of $runs)"
for nodes in 1 4; do
  layout=$([ "$nodes" = 1 ] && echo allinone || echo four)
  for tool in nimbus pyinfra ansible nimbus-full; do
    firsts=() reruns=()
    for _ in $(seq "$runs"); do
      fresh "$nodes" "$layout"
      firsts+=("$(timed "$tool")")
      reruns+=("$(timed "$tool")")
    done
    echo "$nodes $tool $(median "${firsts[@]}") $(median "${reruns[@]}")"
  done
done
"$bin" sandbox down --name bench >/dev/null
rm -rf "$state" "$work"
