using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Guarantees;

/// <summary>
/// Every tensor a training step writes counts for divergence, not only the parameters: batch-norm
/// moving statistics are float averages of double batch statistics and overflow to +∞ while the loss
/// and every parameter are still finite. Such a step is not finite, training stops there, and no
/// checkpoint is written with them.
/// </summary>
public class StateDivergenceTests
{
    /// <summary>InputBatchNorm normalizes the raw input: inputs of 1e30 (finite) have a variance of
    /// about 1e59, finite in double, +∞ once the moving variance is stored in float. The normalized
    /// activations, the loss and the gradients are all of ordinary size.</summary>
    [Theory]
    [InlineData(SimdPath.Scalar)]
    [InlineData(SimdPath.Vector128)]
    [InlineData(SimdPath.Vector256)]
    [InlineData(SimdPath.Vector512)]
    public void OverflowingMovingVarianceMakesTheStepNonFinite(SimdPath simd)
    {
        using var net = new InputBatchNorm(new NetworkOptions { Seed = 1, Threads = 1, Simd = simd });
        var (x, labels) = TestNets.Batch(net, 9, seed: 3);
        for (int i = 0; i < x.Length; i++) x[i] *= 1e30f;
        StepResult r = net.TrainStep(x, labels, 0.1f);

        Assert.True(double.IsFinite(r.LossSum), $"loss {r.LossSum}: this case is about the moving statistics alone");
        Assert.Contains(net.Tensor("batchnorm1.moving_var").ToArray(), v => float.IsPositiveInfinity(v));
        Assert.False(r.ParametersFinite);
        Assert.False(r.IsFinite);
        Assert.Equal("forward: batchnorm1 batch statistics", net.FindNonFinite());
    }

    /// <summary>A finite step still reports finite (the check does not fire on ordinary data), and so
    /// does the first step after moving statistics that were fine.</summary>
    [Fact]
    public void FiniteMovingStatisticsKeepTheStepFinite()
    {
        using var net = new InputBatchNorm(new NetworkOptions { Seed = 1, Threads = 1 });
        var (x, labels) = TestNets.Batch(net, 9, seed: 3);
        for (int i = 0; i < x.Length; i++) x[i] *= 1e15f; // variance 1e29: large, but fits in float
        StepResult r = net.TrainStep(x, labels, 0.1f);
        Assert.True(r.IsFinite);
        Assert.All(net.Tensor("batchnorm1.moving_var").ToArray(), v => Assert.True(float.IsFinite(v)));
        Assert.Null(net.FindNonFinite());
    }

    /// <summary>The run: LeNet at learning rate 1e20. The second step's loss (about 1.5e22)
    /// and parameters are finite, but batchnorm1.moving_var is +∞. The trainer stops at that batch
    /// and the checkpoint of the epoch before stays as it was.</summary>
    [Fact]
    public void TrainerStopsAtInfiniteMovingStatisticsAndKeepsTheCheckpoint()
    {
        using var dir = new ScratchDir();
        Dataset train = Bits.RandomImages(600, seed: 3);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = 2, MaxBatch = 64 });
        string checkpoint = dir.File("e0.safetensors");
        Checkpoint.Save(net, checkpoint, new Dictionary<string, string> { ["graphgen.epoch"] = "0" });
        byte[] saved = File.ReadAllBytes(checkpoint);

        var trainer = new Trainer(net, train, null, new TrainOptions { BatchSize = 64, LearningRate = 1e20f, Seed = 0, Shuffle = false });
        var e = Assert.Throws<DivergenceException>(() =>
        {
            for (int epoch = 1; epoch <= 2; epoch++)
            {
                trainer.RunEpoch(epoch);
                Checkpoint.Save(net, checkpoint, new Dictionary<string, string> { ["graphgen.epoch"] = epoch.ToString() }); // as --checkpoint-every 1
            }
        });

        Assert.Equal((1, 2), (e.Epoch, e.Batch));
        Assert.True(double.IsFinite(e.Loss), $"loss {e.Loss}: the divergence is in the moving statistics only");
        Assert.Equal("forward: batchnorm1 batch statistics", e.Where);
        Assert.Contains(net.Tensor("batchnorm1.moving_var").ToArray(), v => float.IsPositiveInfinity(v));
        Assert.Equal(saved, File.ReadAllBytes(checkpoint));
        using var reloaded = new LeNet(new NetworkOptions { Threads = 1 });
        Checkpoint.Load(reloaded, checkpoint);
        Assert.All(reloaded.Tensors, t => Assert.True(reloaded.Tensor(t.Name).ToArray().All(float.IsFinite), t.Name));
    }
}
