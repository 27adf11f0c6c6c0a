#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine runs a podsim sweep as a job array,
# one shard per task; the merged result must equal a local run byte for byte.
#
# Starts munged, slurmctld and slurmd itself (in the background, as root, no systemd:
# proctrack/linuxproc, task/none, no accounting, sched/builtin) and stops them at the end.
# Exit 77 (ctest: skipped) with the reason when Slurm cannot run here; never a pass.
set -uo pipefail
PODSIM=${1:?usage: slurm_sweep_test.sh PODSIM_BINARY SOURCE_DIR}
SRC=${2:?usage: slurm_sweep_test.sh PODSIM_BINARY SOURCE_DIR}
skip() { echo "SKIPPED: $*"; exit 77; }

for tool in munged slurmctld slurmd sbatch sinfo scontrol; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (Debian packages slurm-wlm and munge)"
done
[ "$(id -u)" -eq 0 ] || skip "the test starts the Slurm daemons as root and is not root"

work=$(mktemp -d /tmp/podsim-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a private key and socket in the work folder.
mkdir -p "$work/munge" && chmod 700 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none && chmod 400 "$work/munge/munge.key"
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/munge.socket" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed" \
  2>> "$work/munge/munged.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/munge.socket" ] && break; sleep 0.1; done
[ -S "$work/munge/munge.socket" ] || skip "munged did not start: $(tail -3 "$work/munge/munged.log" 2>/dev/null)"

host=$(hostname -s)
cpus=$(nproc)
mkdir -p "$work/spool/ctld" "$work/spool/d" "$work/log"
cat > "$work/slurm.conf" <<CONF
ClusterName=podsim-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/linear
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -f "$SLURM_CONF" > "$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/log/slurmd.out" 2>&1 &
pids+=($!)
ready=""
for _ in $(seq 100); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -1)
  case "$state" in idle*|mixed*|alloc*) ready=yes; break ;; esac
  sleep 0.2
done
[ -n "$ready" ] || skip "Slurm did not come up (node state '${state:-none}'): $(tail -3 "$work/log/slurmctld.log" "$work/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"

# The sweep: 12 points over two axes.
cat > "$work/sweep.yaml" <<SW
sweep:
  hardware: tpu-v3
  workload: $SRC/workloads/gemm-example.yaml
  grid:
    chip.hbm.bandwidth: [600 GB/s, 900 GB/s, 1200 GB/s]
    workload.ops.g0.m: [256, 512, 1024, 2048]
  metrics: [time_s, achieved_tflops]
SW
shards=3
jobid=$(sbatch --parsable --wait --array=0-$((shards - 1)) --output="$work/log/task-%a.out" \
  --chdir="$work" --wrap "$PODSIM sweep $work/sweep.yaml --shard \$SLURM_ARRAY_TASK_ID/$shards --out $work/shard\$SLURM_ARRAY_TASK_ID")
rc=$?
if [ $rc -ne 0 ]; then
  echo "FAILED: sbatch --wait exited $rc (job $jobid)"; cat "$work"/log/task-*.out 2>/dev/null; exit 1
fi
"$PODSIM" sweep --merge "$work"/shard0 "$work"/shard1 "$work"/shard2 --out "$work/merged" || { echo "FAILED: merge"; exit 1; }
"$PODSIM" sweep "$work/sweep.yaml" -j 2 --out "$work/local" > /dev/null 2>&1 || { echo "FAILED: local sweep"; exit 1; }
if cmp "$work/merged/results.csv" "$work/local/results.csv"; then
  echo "Slurm job array $jobid: $shards shards merged = local run ($(($(wc -l < "$work/local/results.csv") - 1)) points)"
  echo "1 passed, 0 failed"
  exit 0
fi
echo "FAILED: merged results differ from the local run"
diff "$work/merged/results.csv" "$work/local/results.csv" | head
exit 1
