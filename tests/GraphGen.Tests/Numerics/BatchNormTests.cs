using System;
using System.Linq;
using GraphGen.Tests.Nets;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Numerics;

/// <summary>
/// The batch-norm contract, and the three bugs of the original notebook pinned down:
/// (1) variance as mean(X − mean²) instead of mean((X − mean)²); (2) moving averages that never
/// used the batch statistics; (3) epoch loss and accuracy overwritten per batch instead of summed.
/// </summary>
public class BatchNormTests
{
    // InputBatchNorm is [Network(Features = 6)] [BatchNorm] [Dense(5)] [ReLU] [Dense(3)]: its batch
    // norm sees the raw input, so every statistic can be computed by hand from the batch.
    private static float[] Column(float[] x, int features, int f) => Enumerable.Range(0, x.Length / features).Select(i => x[i * features + f]).ToArray();

    [Fact]
    public void MovingStatisticsFollowTheHandComputedRecurrence()
    {
        using var net = new InputBatchNorm(new NetworkOptions { Seed = 1, Threads = 1 });
        double[] mm = new double[6], mv = Enumerable.Repeat(1.0, 6).ToArray(); // contract: start at 0 and 1
        Assert.Equal(mm, net.Tensor("batchnorm1.moving_mean").ToArray().Select(v => (double)v));
        Assert.Equal(mv, net.Tensor("batchnorm1.moving_var").ToArray().Select(v => (double)v));
        var rng = new Random(5);
        for (int step = 0; step < 4; step++)
        {
            int n = 5 + 3 * step; // 5, 8, 11, 14: partial and full chunks on every path
            var x = Enumerable.Range(0, n * 6).Select(_ => (float)(rng.NextDouble() * 4 - 1 + step)).ToArray();
            var labels = Enumerable.Range(0, n).Select(_ => rng.Next(3)).ToArray();
            net.TrainStep(x, labels, 0.05f);
            for (int f = 0; f < 6; f++)
            {
                float[] col = Column(x, 6, f);
                double mean = col.Average(v => (double)v);
                double biasedVar = col.Average(v => (v - mean) * (v - mean));
                mm[f] = 0.9 * mm[f] + 0.1 * mean;
                mv[f] = 0.9 * mv[f] + 0.1 * biasedVar;
                Assert.Equal(mm[f], net.Tensor("batchnorm1.moving_mean")[f], 5);
                Assert.Equal(mv[f], net.Tensor("batchnorm1.moving_var")[f], 5);
            }
        }
    }

    [Theory]
    [InlineData(SimdPath.Scalar)]
    [InlineData(SimdPath.Vector128)]
    [InlineData(SimdPath.Vector256)]
    [InlineData(SimdPath.Vector512)]
    public void VarianceStaysAccurateWhenTheMeanIsLarge(SimdPath simd)
    {
        // Mean 1e4, std 1. In float, E[x²] − E[x]² loses everything (1e8 · 6e-8 ≈ 6); mean(x − mean²),
        // the notebook's formula, is not even a variance. The shifted sums keep 1e-6.
        using var net = new InputBatchNorm(new NetworkOptions { Seed = 1, Threads = 2, Simd = simd });
        var rng = new Random(9);
        int n = 45;
        var x = Enumerable.Range(0, n * 6).Select(_ => (float)(1e4 + Gaussian(rng))).ToArray();
        net.TrainStep(x, Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 0f);
        for (int f = 0; f < 6; f++)
        {
            float[] col = Column(x, 6, f);
            double mean = col.Average(v => (double)v);
            double variance = col.Average(v => (v - mean) * (v - mean));
            double fromNet = (net.Tensor("batchnorm1.moving_var")[f] - 0.9) / 0.1;
            double meanFromNet = net.Tensor("batchnorm1.moving_mean")[f] / 0.1;
            Assert.InRange(Math.Abs(fromNet - variance) / variance, 0, 2e-5);
            Assert.InRange(Math.Abs(meanFromNet - mean) / mean, 0, 1e-6);
            double notebook = col.Average(v => v - mean * mean); // the original bug
            Assert.True(Math.Abs(notebook - variance) > 1e6);
        }
    }

    [Fact]
    public void ConvolutionStatisticsStayAccurateWhenTheMeanIsLarge()
    {
        // A conv bias of 1e4 moves every conv output to ~1e4; the float activations themselves carry
        // ~1e4·6e-8 of rounding, so 1e-3 is the honest tolerance here, against an error of order 1
        // (100 %) for the one-pass float formula.
        using var net = TestNets.Create("ConvBnPool", SimdPath.Auto, threads: 2);
        net.Tensor("conv1.bias").Fill(1e4f);
        var reference = new ReferenceNetwork(net);
        var (x, labels) = TestNets.Batch(net, 29, seed: 4);
        reference.LossAndGradients(TestNets.ToDouble(x), labels);
        var (mean, variance) = reference.BatchStatistics(1); // layer 1 is batchnorm1
        double[] mv0 = TestNets.ToDouble(net.Tensor("batchnorm1.moving_var"));
        double[] mm0 = TestNets.ToDouble(net.Tensor("batchnorm1.moving_mean"));
        net.TrainStep(x, labels, 0f);
        for (int c = 0; c < mean.Length; c++)
        {
            double v = (net.Tensor("batchnorm1.moving_var")[c] - 0.9 * mv0[c]) / 0.1;
            double m = (net.Tensor("batchnorm1.moving_mean")[c] - 0.9 * mm0[c]) / 0.1;
            Assert.InRange(Math.Abs(v - variance[c]) / variance[c], 0, 1e-3);
            Assert.InRange(Math.Abs(m - mean[c]) / mean[c], 0, 1e-6);
        }
    }

    [Fact]
    public void InferenceUsesMovingStatisticsAndDoesNotDependOnTheBatch()
    {
        using var net = TestNets.Create("ConvBnPool", SimdPath.Auto, threads: 2);
        var (x, labels) = TestNets.Batch(net, 20, seed: 2);
        net.TrainStep(x, labels, 0.1f);
        var all = new float[20 * net.Classes];
        net.Infer(x, all);
        // Sample 3 alone gives the same logits as inside the batch: no batch statistics involved.
        var one = new float[net.Classes];
        net.Infer(x.AsSpan(3 * net.InputSize, net.InputSize), one);
        Assert.Equal(all.AsSpan(3 * net.Classes, net.Classes).ToArray(), one);
        // And they are the reference's inference-mode logits, not its training-mode ones.
        var reference = new ReferenceNetwork(net);
        double[] inference = reference.Forward(TestNets.ToDouble(x), 20, training: false);
        double[] training = reference.Forward(TestNets.ToDouble(x), 20, training: true);
        Assert.True(TestNets.RelativeError(all, inference) < 1e-5);
        Assert.True(TestNets.RelativeError(all, training) > 1e-2);
        // Changing the moving statistics changes inference (folded weights are refreshed).
        net.Tensor("batchnorm1.moving_mean")[0] += 1f;
        var after = new float[net.Classes];
        net.Infer(x.AsSpan(3 * net.InputSize, net.InputSize), after);
        Assert.NotEqual(one, after);
    }

    [Fact]
    public void EpochTotalsAreSummedOverAllBatchesNotOverwritten()
    {
        var rng = new Random(3);
        var pixels = new byte[300 * 784]; rng.NextBytes(pixels);
        var data = new GraphGen.Data.Dataset(pixels, Enumerable.Range(0, 300).Select(_ => rng.Next(10)).ToArray(), 28, 28);
        var options = new TrainOptions { BatchSize = 64, LearningRate = 0.5f, Seed = 11 }; // 4 full batches + 44
        using var a = new LeNet(new NetworkOptions { Seed = 2, Threads = 1, MaxBatch = 64 });
        using var b = new LeNet(new NetworkOptions { Seed = 2, Threads = 1, MaxBatch = 64 });
        EpochResult epoch = new Trainer(a, data, null, options).RunEpoch(1);

        // Replay the same batches by hand.
        var order = new int[300];
        Trainer.EpochOrder(order, 11, 1, shuffle: true);
        double lossSum = 0; int correct = 0; double lastBatchMean = 0;
        var batchPixels = new byte[64 * 784]; var batchLabels = new int[64];
        for (int start = 0; start < 300; start += 64)
        {
            int n = Math.Min(64, 300 - start);
            data.Gather(order.AsSpan(start, n), batchPixels.AsSpan(0, n * 784), batchLabels.AsSpan(0, n));
            var r = b.TrainStep(batchPixels.AsSpan(0, n * 784), batchLabels.AsSpan(0, n), 0.5f);
            lossSum += r.LossSum; correct += r.Correct; lastBatchMean = r.MeanLoss;
        }
        Assert.Equal(lossSum / 300, epoch.Loss, 12);
        Assert.Equal(correct / 300.0, epoch.TrainAccuracy, 12);
        Assert.NotEqual(lastBatchMean, epoch.Loss, 6);
        Assert.Equal(300, epoch.Samples);
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
