set terminal pngcairo size 900,600 noenhanced
set key outside right
set grid
set output 'experiments/results/fmnist_resnet20_compare_dorefa/accuracy_vs_bits.png'
set xlabel 'weight bits'
set ylabel 'test accuracy (%)'
plot '< grep "^dorefa " experiments/results/fmnist_resnet20_compare_dorefa/accuracy_vs_bits.dat' using 2:3:4 with yerrorlines title 'dorefa'
set output 'experiments/results/fmnist_resnet20_compare_dorefa/train_loss.png'
set xlabel 'epoch'
set ylabel 'training loss'
set logscale y
plot 'experiments/results/fmnist_resnet20_compare_dorefa/train_loss.dat' index 0 using 1:2 with lines title 'dorefa_w4a4_s1', 'experiments/results/fmnist_resnet20_compare_dorefa/train_loss.dat' index 1 using 1:2 with lines title 'dorefa_w4a4_s2'
