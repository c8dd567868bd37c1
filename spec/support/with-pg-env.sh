#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# with-pg-env.sh DIR CMD [ARGS...]: runs CMD against the test PostgreSQL server that
# `pg.sh start DIR` started (the CTest fixture "postgres"), in a fresh database of its own,
# named after CMD plus a random suffix and exported as AGENTLENS_DB_POSTGRES_DBNAME and PGDATABASE.
set -euo pipefail

if (($# < 2)); then
	echo "usage: ${0##*/} DIR CMD [ARGS...]" >&2
	exit 2
fi
dir=$1
shift
if [[ ! -r $dir/env ]]; then
	echo "${0##*/}: no test server in $dir (run: pg.sh start $dir, or the CTest fixture pg.start)" >&2
	exit 2
fi
# shellcheck source=/dev/null
. "$dir/env"

base=${1##*/}
base=${base,,}
base=${base//[^a-z0-9_]/_}
db=t_${base:0:40}_$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
"$(dirname "${BASH_SOURCE[0]}")/pg.sh" createdb "$dir" "$db"
export AGENTLENS_DB_POSTGRES_DBNAME=$db PGDATABASE=$db
exec "$@"
