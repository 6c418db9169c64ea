# Sourced by the bench scripts: runs contenders interleaved and summarises them by medians.
# The caller sets `rounds`, `names` (the contenders, in their order within a round) and a
# function `run NAME ROUND` that runs one and prints its images/s.

# Runs every contender once per round, in the same order, into rate[NAME,ROUND]; a line a round.
declare -A rate
run_rounds() {
    local r name line
    for ((r = 1; r <= rounds; r++)); do
        line="round $r:"
        for name in "${names[@]}"; do
            rate[$name,$r]="$(run "$name" "$r")"
            line+=" $name ${rate[$name,$r]}"
        done
        echo "$line"
    done
}

# The median of the numbers on stdin, one a line.
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# The median over rounds of contender NAME's images/s.
median_rate() {
    local r
    for ((r = 1; r <= rounds; r++)); do echo "${rate[$1,$r]}"; done | median
}

# The median over rounds of rate(A) / rate(B), the figure to read on a shared machine.
ratios() {
    local r
    for ((r = 1; r <= rounds; r++)); do
        awk -v a="${rate[$1,$r]}" -v b="${rate[$2,$r]}" 'BEGIN {print a / b}'
    done | median
}
