using System;
using System.Linq;
using GraphGen.Data;
using GraphGen.Tests.Guarantees;
using GraphGen.Tests.Nets;
using GraphGen.Tests.Numerics;
using GraphGen.Training;
using Xunit;

namespace GraphGen.Tests.Training;

/// <summary>A network whose batch norm never updates its moving statistics.</summary>
[Network(Features = 4)]
[BatchNorm(Momentum = 1)] [Dense(2)]
public partial class FrozenStatistics { }

/// <summary>Precise BN: the recalibrated statistics against the double-precision reference network,
/// and everything else left as it was.</summary>
public class BatchNormCalibrationTests
{
    private static LeNet Trained(Dataset data, int threads = 2)
    {
        var net = new LeNet(new NetworkOptions { Seed = 3, Threads = threads, MaxBatch = 64 });
        new Trainer(net, data, null, new TrainOptions { BatchSize = 64, LearningRate = 0.5f, Seed = 2 }).RunEpoch(1);
        return net;
    }

    [Fact]
    public void Statistics_are_the_average_of_the_reference_networks_per_batch_statistics()
    {
        Dataset data = Bits.RandomImages(200, seed: 11);
        using LeNet net = Trained(data);
        var reference = new ReferenceNetwork(net); // the trained weights, in double
        var movingBefore = Bits.Snapshot(net);

        int used = BatchNormCalibration.Recalibrate(net, data, batches: 3, batchSize: 64, seed: 7);
        Assert.Equal(192, used);

        // The same batches through the reference in training mode: plain averages of each batch's mean
        // and biased variance, layer by layer (every layer normalizing with its own batch statistics).
        var order = new int[data.Count];
        Trainer.EpochOrder(order, 7, 0, shuffle: true);
        int[] bnLayers = Enumerable.Range(0, net.Layers.Count).Where(i => net.Layers[i].Kind == LayerKind.BatchNorm).ToArray();
        var sumMean = bnLayers.Select(li => new double[net.Layers[li].OutputShape[0]]).ToArray();
        var sumVar = bnLayers.Select(li => new double[net.Layers[li].OutputShape[0]]).ToArray();
        for (int b = 0; b < 3; b++)
        {
            double[] x = order.Skip(b * 64).Take(64).SelectMany(i => data.Image(i).ToArray()).Select(p => p / 255.0).ToArray();
            reference.Forward(x, 64, training: true);
            for (int k = 0; k < bnLayers.Length; k++)
            {
                var (mean, variance) = reference.BatchStatistics(bnLayers[k]);
                for (int c = 0; c < mean.Length; c++) { sumMean[k][c] += mean[c]; sumVar[k][c] += variance[c]; }
            }
        }
        for (int k = 0; k < bnLayers.Length; k++)
        {
            LayerInfo layer = net.Layers[bnLayers[k]];
            ReadOnlySpan<float> mean = net.Tensor(layer.Tensors[2]), variance = net.Tensor(layer.Tensors[3]);
            for (int c = 0; c < mean.Length; c++)
            {
                double m = sumMean[k][c] / 3, v = sumVar[k][c] / 3;
                Assert.True(Math.Abs(mean[c] - m) <= 1e-4 * (Math.Abs(m) + Math.Sqrt(v)), $"{layer.Name} mean[{c}]: {mean[c]} vs reference {m}");
                Assert.True(Math.Abs(variance[c] - v) <= 1e-4 * v, $"{layer.Name} var[{c}]: {variance[c]} vs reference {v}");
            }
        }
        Assert.NotNull(Bits.FirstDifference(movingBefore, Bits.Snapshot(net))); // the moving averages were replaced
    }

    [Fact]
    public void Parameters_and_optimizer_state_do_not_change()
    {
        Dataset data = Bits.RandomImages(200, seed: 12);
        using var net = new LeNet(new NetworkOptions { Seed = 3, Threads = 2, MaxBatch = 64 });
        var adam = new Adam();
        new Trainer(net, data, null, new TrainOptions { BatchSize = 64, LearningRate = 0.01f, Optimizer = adam }).RunEpoch(1);
        var parameters = Bits.Snapshot(net);
        foreach (var t in net.Tensors.Where(t => t.Kind == TensorKind.State)) parameters.Remove(t.Name);
        var state = adam.State.ToDictionary(t => t.Name, t => adam.StateTensor(t.Name).ToArray());

        BatchNormCalibration.Recalibrate(net, data, batches: 2, batchSize: 64);

        var after = Bits.Snapshot(net);
        foreach (var t in net.Tensors.Where(t => t.Kind == TensorKind.State)) after.Remove(t.Name);
        Bits.AssertIdentical(parameters, after, "parameters after recalibration");
        Bits.AssertIdentical(state, adam.State.ToDictionary(t => t.Name, t => adam.StateTensor(t.Name).ToArray()), "optimizer state after recalibration");
        Assert.Same(adam, Optimizer.Of(net));
    }

    [Fact]
    public void The_training_option_recalibrates_on_the_first_batches_of_each_epochs_order()
    {
        Dataset data = Bits.RandomImages(300, seed: 13);
        var options = new TrainOptions { BatchSize = 64, LearningRate = 0.5f, Seed = 5 };
        using var a = new LeNet(new NetworkOptions { Seed = 3, Threads = 2, MaxBatch = 64 });
        using var b = new LeNet(new NetworkOptions { Seed = 3, Threads = 2, MaxBatch = 64 });
        var ta = new Trainer(a, data, null, new TrainOptions { BatchSize = 64, LearningRate = 0.5f, Seed = 5, PreciseBatchNormBatches = 2 });
        var tb = new Trainer(b, data, null, options);
        var order = new int[data.Count];
        for (int epoch = 1; epoch <= 2; epoch++)
        {
            EpochResult r = ta.RunEpoch(epoch);
            Assert.True(r.CalibrationTime > TimeSpan.Zero);
            tb.RunEpoch(epoch);
            Trainer.EpochOrder(order, 5, epoch, shuffle: true);
            BatchNormCalibration.Recalibrate(b, new DatasetSamples(data), order, 2, 64);
            Bits.AssertIdentical(Bits.Snapshot(b), Bits.Snapshot(a), $"epoch {epoch}: option vs explicit recalibration");
        }
    }

    [Fact]
    public void A_failure_part_way_leaves_the_network_as_it_was()
    {
        using var net = new Mlp(new NetworkOptions { Seed = 1, Threads = 1, MaxBatch = 16 });
        FloatSamples data = FloatSamples.Separable(64, 20, 3, seed: 1);
        var sgd = new Sgd { Momentum = 0.5f };
        sgd.Attach(net);
        net.TrainStep(data.Values.AsSpan(0, 16 * 20), data.Labels[..16], 0.1f);
        var before = Bits.Snapshot(net);
        // Sample order of seed 0: poison a sample of the third batch.
        var order = new int[64];
        Trainer.EpochOrder(order, 0, 0, shuffle: true);
        data.Values[order[40] * 20 + 3] = float.NaN;

        var e = Assert.Throws<ArgumentException>(() => BatchNormCalibration.Recalibrate(net, data, batches: 4, batchSize: 16));
        Assert.Contains("NaN", e.Message);
        Bits.AssertIdentical(before, Bits.Snapshot(net), "after a failed recalibration");
        Assert.Same(sgd, Optimizer.Of(net));
    }

    [Fact]
    public void Bad_requests_get_one_clear_error()
    {
        using var frozen = new FrozenStatistics(new NetworkOptions { Threads = 1, MaxBatch = 8 });
        var data = FloatSamples.Separable(16, 4, 2, seed: 2);
        Assert.Contains("Momentum = 1", Assert.Throws<InvalidOperationException>(() => BatchNormCalibration.Recalibrate(frozen, data, 1, 8)).Message);
        using var mlp = new Mlp(new NetworkOptions { Threads = 1, MaxBatch = 8 });
        Assert.Contains("MaxBatch", Assert.Throws<ArgumentOutOfRangeException>(() => BatchNormCalibration.Recalibrate(mlp, FloatSamples.Separable(16, 20, 3, 2), 1, 9)).Message);
        Assert.Contains("20 values per sample", Assert.Throws<ArgumentException>(() => BatchNormCalibration.Recalibrate(mlp, data, 1, 8)).Message);
        using var noBatchNorm = new StridePad(new NetworkOptions { Threads = 1, MaxBatch = 8 });
        Assert.Equal(0, BatchNormCalibration.Recalibrate(noBatchNorm, FloatSamples.Separable(8, 3 * 8 * 7, 5, 3), 1, 8));
    }
}
