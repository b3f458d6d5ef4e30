using System;
using System.Collections.Generic;
using GraphGen.Data;
using GraphGen.Execution;

namespace GraphGen.Training;

/// <summary>
/// "Precise BN": replaces every batch-norm layer's moving statistics with population statistics
/// recomputed over training batches at the current weights, instead of the moving averages that trail
/// weights which changed fast during the epoch.
///
/// <para>Semantics. Each batch runs the training-mode forward pass (every batch-norm layer normalizes
/// with its batch statistics, as in training), and the new moving mean and variance of a channel are
/// the plain averages, over the batches, of the per-batch mean and of the per-batch variance. This is
/// what pycls's <c>compute_precise_bn_stats</c>, fvcore's <c>update_bn_stats</c> and PyTorch's
/// <c>torch.optim.swa_utils.update_bn</c> (a cumulative average) compute, with one difference: they
/// average PyTorch's unbiased batch variance, this averages the biased one (divided by the count),
/// which is what GraphGen's batch norm normalizes with and what its moving average tracks (the d2l
/// contract), so recalibrated statistics are on the scale the moving ones were. Only full batches are
/// used (equal weights are then right), unless the data holds less than one.</para>
///
/// <para>The parameters do not change: the steps run with the network's update switched off.</para>
/// </summary>
public static class BatchNormCalibration
{
    /// <summary>Recalibrates <paramref name="network"/> on <paramref name="batches"/> batches of
    /// <paramref name="batchSize"/> samples of <paramref name="data"/>, taken in a shuffled order
    /// seeded by <paramref name="seed"/>. Returns the number of samples used (0 when the network has no
    /// batch norm).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive or the batch exceeds the network's MaxBatch.</exception>
    /// <exception cref="InvalidOperationException">A layer's statistics are not finite, or a layer's momentum is 1;
    /// the network is then left as it was.</exception>
    public static int Recalibrate(INetwork network, ILabelledSamples data, int batches = 100, int batchSize = 256, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        var order = new int[data.Count];
        Trainer.EpochOrder(order, seed, 0, shuffle: true);
        return Recalibrate(network, data, order, batches, batchSize);
    }

    /// <summary>As <see cref="Recalibrate(INetwork, ILabelledSamples, int, int, int)"/> on a <see cref="Dataset"/> (bytes or floats).</summary>
    public static int Recalibrate(INetwork network, Dataset data, int batches = 100, int batchSize = 256, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Recalibrate(network, new DatasetSamples(data), batches, batchSize, seed);
    }

    /// <summary>Recalibrates on the first batches of <paramref name="order"/>.</summary>
    internal static int Recalibrate(INetwork network, ILabelledSamples data, ReadOnlySpan<int> order, int batches, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (batchSize > network.MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"the batch size must not exceed the network's MaxBatch ({network.MaxBatch})");
        if (data.SampleSize != network.InputSize)
            throw new ArgumentException($"{network.Name} takes {network.InputSize} values per sample, the data set has {data.SampleSize}", nameof(data));
        if (data.Count == 0) throw new ArgumentException("the data set is empty", nameof(data));

        var layers = new List<(string Mean, string Var, double Keep)>();
        foreach (LayerInfo layer in network.Layers)
        {
            if (layer.Kind != LayerKind.BatchNorm) continue;
            // The per-batch statistics are read back through the moving-average update: with the moving
            // value zeroed, the step leaves (1 − momentum)·batch in it. Momentum 1 turns that update off.
            if (layer.Momentum >= 1)
                throw new InvalidOperationException($"{layer.Name} has Momentum = 1: its moving statistics never change in training, so they cannot be recalibrated");
            layers.Add((layer.Tensors[2], layer.Tensors[3], 1 - layer.Momentum));
        }
        if (layers.Count == 0) return 0;

        if (data.Count < batchSize) batchSize = data.Count;
        batches = Math.Min(batches, data.Count / batchSize);
        var saved = new float[layers.Count * 2][];
        var sums = new double[layers.Count * 2][];
        for (int i = 0; i < layers.Count; i++)
        {
            saved[2 * i] = network.Tensor(layers[i].Mean).ToArray();
            saved[2 * i + 1] = network.Tensor(layers[i].Var).ToArray();
            sums[2 * i] = new double[saved[2 * i].Length];
            sums[2 * i + 1] = new double[saved[2 * i + 1].Length];
        }
        Optimizer? previous = Optimizer.Swap(network, new FrozenParameters());
        bool done = false;
        try
        {
            for (int b = 0; b < batches; b++)
            {
                for (int i = 0; i < layers.Count; i++)
                {
                    network.Tensor(layers[i].Mean).Clear();
                    network.Tensor(layers[i].Var).Clear();
                }
                data.TrainStep(network, order.Slice(b * batchSize, batchSize), 0f);
                for (int i = 0; i < layers.Count; i++)
                {
                    Accumulate(network.Tensor(layers[i].Mean), layers[i].Keep, sums[2 * i]);
                    Accumulate(network.Tensor(layers[i].Var), layers[i].Keep, sums[2 * i + 1]);
                }
            }
            for (int i = 0; i < layers.Count; i++)
            {
                for (int k = 0; k < 2; k++)
                {
                    double[] sum = sums[2 * i + k];
                    foreach (double s in sum)
                        if (!double.IsFinite(s))
                            throw new InvalidOperationException($"the batch statistics of {(k == 0 ? layers[i].Mean : layers[i].Var)} are not finite; the network was left unchanged");
                }
            }
            for (int i = 0; i < layers.Count; i++)
            {
                Average(sums[2 * i], batches, network.Tensor(layers[i].Mean));
                Average(sums[2 * i + 1], batches, network.Tensor(layers[i].Var));
            }
            done = true;
        }
        finally
        {
            Optimizer.Swap(network, previous);
            if (!done)
            {
                for (int i = 0; i < layers.Count; i++)
                {
                    saved[2 * i].CopyTo(network.Tensor(layers[i].Mean));
                    saved[2 * i + 1].CopyTo(network.Tensor(layers[i].Var));
                }
            }
        }
        return batches * batchSize;
    }

    private static void Accumulate(ReadOnlySpan<float> moving, double keep, double[] sum)
    {
        for (int c = 0; c < sum.Length; c++) sum[c] += moving[c] / keep;
    }

    private static void Average(double[] sum, int batches, Span<float> target)
    {
        for (int c = 0; c < sum.Length; c++) target[c] = (float)(sum[c] / batches);
    }

    /// <summary>The update of a calibration step: none.</summary>
    private sealed class FrozenParameters : Optimizer
    {
        private protected override string[] SlotNames => [];
        private protected override void ValidateSettings() { }
        private protected override void Step(float[] weights, float[] gradient, int parameter, float learningRate, float decay, long step) { }
        internal override bool Apply(NetworkCore core, float learningRate) => true;
    }
}
