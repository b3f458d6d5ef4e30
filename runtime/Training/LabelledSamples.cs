using System;
using GraphGen.Data;

namespace GraphGen.Training;

/// <summary>
/// Labelled samples that <see cref="Trainer"/> batches, evaluates and predicts on, whatever their storage:
/// the set gathers a batch in its own element type and calls the matching overload of the network, so
/// byte images keep their fast path and a float data set plugs in by implementing these members.
/// </summary>
public interface ILabelledSamples
{
    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Values per sample (must equal the network's <see cref="INetwork.InputSize"/>).</summary>
    int SampleSize { get; }

    /// <summary>One label per sample.</summary>
    ReadOnlySpan<int> Labels { get; }

    /// <summary>Gathers samples <paramref name="indices"/> into a batch and runs one training step on it.</summary>
    StepResult TrainStep(INetwork network, ReadOnlySpan<int> indices, float learningRate);

    /// <summary>Writes the logits of samples <paramref name="start"/> .. start + count − 1 (inference mode) to <paramref name="logits"/>.</summary>
    void Infer(INetwork network, int start, int count, Span<float> logits);
}

/// <summary>A <see cref="Dataset"/> as <see cref="ILabelledSamples"/>: byte images (pixels divided by 255 by the
/// network) or float samples of any shape, each batch gathered in the set's own element type.</summary>
public sealed class DatasetSamples : ILabelledSamples
{
    private byte[] _pixels = [];
    private float[] _values = [];
    private int[] _labels = [];

    /// <summary>Wraps <paramref name="data"/> (not copied).</summary>
    public DatasetSamples(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Data = data;
    }

    /// <summary>The wrapped data set.</summary>
    public Dataset Data { get; }

    /// <inheritdoc/>
    public int Count => Data.Count;

    /// <inheritdoc/>
    public int SampleSize => Data.ImageSize;

    /// <inheritdoc/>
    public ReadOnlySpan<int> Labels => Data.Labels;

    /// <inheritdoc/>
    public StepResult TrainStep(INetwork network, ReadOnlySpan<int> indices, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(network);
        int n = indices.Length;
        if (_labels.Length < n)
        {
            if (Data.IsBytes) _pixels = new byte[(long)n * SampleSize];
            else _values = new float[(long)n * SampleSize];
            _labels = new int[n];
        }
        if (Data.IsBytes)
        {
            Data.Gather(indices, _pixels.AsSpan(0, n * SampleSize), _labels.AsSpan(0, n));
            return network.TrainStep(_pixels.AsSpan(0, n * SampleSize), _labels.AsSpan(0, n), learningRate);
        }
        Data.Gather(indices, _values.AsSpan(0, n * SampleSize), _labels.AsSpan(0, n));
        return network.TrainStep(_values.AsSpan(0, n * SampleSize), _labels.AsSpan(0, n), learningRate);
    }

    /// <inheritdoc/>
    public void Infer(INetwork network, int start, int count, Span<float> logits)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (Data.IsBytes) network.Infer(Data.Pixels.Slice(start * SampleSize, count * SampleSize), logits);
        else network.Infer(Data.Values.Slice(start * SampleSize, count * SampleSize), logits);
    }
}

/// <summary>The samples of a <see cref="Dataset"/> as <paramref name="augmentation"/> makes them in epoch <paramref name="epoch"/>:
/// training steps on the augmented samples (what the epoch trained on), inference on the normalized ones.</summary>
internal sealed class AugmentedSamples(Dataset data, Augmentation augmentation, int seed, int epoch) : ILabelledSamples
{
    private readonly Augmentation _normalization = new() { Mean = augmentation.Mean, Std = augmentation.Std };
    private readonly float[] _scratch = new float[data.SampleSize];
    private float[] _values = [];
    private int[] _labels = [];

    public int Count => data.Count;

    public int SampleSize => data.SampleSize;

    public ReadOnlySpan<int> Labels => data.Labels;

    public StepResult TrainStep(INetwork network, ReadOnlySpan<int> indices, float learningRate)
    {
        Fill(augmentation, indices);
        return network.TrainStep(_values.AsSpan(0, indices.Length * SampleSize), _labels.AsSpan(0, indices.Length), learningRate);
    }

    public void Infer(INetwork network, int start, int count, Span<float> logits)
    {
        var indices = new int[count];
        for (int i = 0; i < count; i++) indices[i] = start + i;
        Fill(_normalization, indices);
        network.Infer(_values.AsSpan(0, count * SampleSize), logits);
    }

    private void Fill(Augmentation with, ReadOnlySpan<int> indices)
    {
        int size = SampleSize;
        if (_labels.Length < indices.Length)
        {
            _values = new float[(long)indices.Length * size];
            _labels = new int[indices.Length];
        }
        for (int i = 0; i < indices.Length; i++)
        {
            with.Apply(data, indices[i], seed, epoch, _values.AsSpan(i * size, size), _scratch);
            _labels[i] = data.Labels[indices[i]];
        }
    }
}
