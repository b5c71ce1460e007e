set terminal pngcairo size 900,600 noenhanced
set key outside right
set grid
set output '/work/runs/bert_compare/accuracy_vs_bits.png'
set xlabel 'weight bits'
set ylabel 'test accuracy (%)'
plot '< grep "^nipq " /work/runs/bert_compare/accuracy_vs_bits.dat' using 2:3:4 with yerrorlines title 'nipq', '< grep "^lsq " /work/runs/bert_compare/accuracy_vs_bits.dat' using 2:3:4 with yerrorlines title 'lsq'
set output '/work/runs/bert_compare/train_loss.png'
set xlabel 'epoch'
set ylabel 'training loss'
set logscale y
plot '/work/runs/bert_compare/train_loss.dat' index 0 using 1:2 with lines title 'nipq_w8a8_s1', '/work/runs/bert_compare/train_loss.dat' index 1 using 1:2 with lines title 'nipq_w4a8_s1', '/work/runs/bert_compare/train_loss.dat' index 2 using 1:2 with lines title 'nipq_w2a8_s1', '/work/runs/bert_compare/train_loss.dat' index 3 using 1:2 with lines title 'lsq_w8a8_s1', '/work/runs/bert_compare/train_loss.dat' index 4 using 1:2 with lines title 'lsq_w4a8_s1', '/work/runs/bert_compare/train_loss.dat' index 5 using 1:2 with lines title 'lsq_w2a8_s1'
