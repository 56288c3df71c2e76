#!/usr/bin/env bash
# Runs a simulation study on a Slurm cluster: an array of NSHARDS shards, then a merge job
# that starts only when all of them have succeeded (afterok). Prints the merge job's id on
# stdout, so a caller can wait for it; the rest goes to stderr.
#   models/slurm/submit.sh STUDY.json OUTDIR NSHARDS [simulate flags: --replicates R --seed N]
# Cluster options come from Slurm's own variables (SBATCH_PARTITION, SBATCH_ACCOUNT,
# SBATCH_TIMELIMIT, …); DARKFIGURE_CPUS_PER_SHARD (default 1) sets the threads of a shard.
set -euo pipefail
die() { echo "submit.sh: $*" >&2; exit 2; }
[ $# -ge 3 ] || die "usage: submit.sh STUDY.json OUTDIR NSHARDS [simulate flags]"
study=$1 out=$2 shards=$3
shift 3
[[ $shards =~ ^[1-9][0-9]*$ ]] || die "NSHARDS must be a positive whole number, not '$shards'"
[ -f "$study" ] || die "no study file $study"
here=$(cd "$(dirname "$0")" && pwd)

# Parts of an earlier run would be merged with this one's, or its study.json taken for
# this one's result after a failure.
if compgen -G "$out/part_*.json" >/dev/null || [ -e "$out/study.json" ]; then
  die "$out already holds results of a run: choose a new folder"
fi
bin=${DARKFIGURE_BIN:-$(command -v darkfigure || true)}
[ -x "$bin" ] || die "darkfigure not found: set DARKFIGURE_BIN or put it on PATH"
mkdir -p "$out"
# The jobs start in another directory, maybe on another node: they get absolute paths, and
# the binary found here (sbatch hands them this environment), not whatever a node's PATH has.
study=$(realpath "$study")
out=$(realpath "$out")
DARKFIGURE_BIN=$(realpath "$bin")
export DARKFIGURE_BIN

array=$(sbatch --parsable --array="0-$((shards - 1))" \
  --cpus-per-task="${DARKFIGURE_CPUS_PER_SHARD:-1}" --output="$out/shard_%a.log" \
  "$here/simulate.sbatch" "$study" "$out" "$shards" "$@")
array=${array%%;*} # "id;cluster" on a federation
# Shards whose merge could not be submitted would only use the cluster for nothing.
merge=$(sbatch --parsable --dependency="afterok:$array" --output="$out/merge.log" \
  "$here/merge.sbatch" "$out" "$shards") || { scancel "$array"; die "merge job refused"; }
merge=${merge%%;*}
echo "shards: job $array (logs $out/shard_<i>.log); merge: job $merge -> $out/study.json" >&2
echo "$merge"
