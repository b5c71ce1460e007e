# gnuplot experiments/results/mixed_precision/plots.gp (from the repository root)
set terminal pngcairo size 900,600 noenhanced
set key outside right
set grid
set datafile separator ','
set output 'experiments/results/mixed_precision/proxybench/accuracy_vs_bits.png'
set title 'MQ-Bench-FMNIST configs (500 held-out training images; proxybench.md)'
set xlabel 'average weight bits of the 20 allocated layers'
set ylabel 'accuracy'
set yrange [0.5:1]
plot 'experiments/results/mixed_precision/proxybench/bench.csv' every ::1 using 5:9 with points pt 7 title 'acc_ft (2 steps)', \
     '' every ::1 using 5:8 with points pt 6 title 'acc_ptq'
set datafile separator whitespace
set output 'experiments/results/mixed_precision/equal_budget.png'
set title 'Equal-budget allocations (allocate.md: 25 steps, one seed)'
set xlabel 'average weight bits of the 20 allocated layers'
set ylabel 'test accuracy (%)'
set autoscale y
plot for [a in 'uniform fisher ompq emq snip hawq_v2'] \
  '< grep "^'.a.' " experiments/results/mixed_precision/equal_budget.dat' using 2:3 with linespoints title a
