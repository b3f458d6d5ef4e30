using System;
using GraphGen.Training;

namespace GraphGen.Tests.Training;

/// <summary>Float samples in arrays: what a float data set has to implement to plug into <see cref="Trainer"/>.</summary>
internal sealed class FloatSamples(float[] values, int[] labels) : ILabelledSamples
{
    private float[] _batch = [];
    private int[] _labels = [];

    public int Count => labels.Length;
    public int SampleSize => values.Length / labels.Length;
    public ReadOnlySpan<int> Labels => labels;
    public float[] Values => values;

    public StepResult TrainStep(INetwork network, ReadOnlySpan<int> indices, float learningRate)
    {
        int n = indices.Length, size = SampleSize;
        if (_labels.Length < n) { _batch = new float[n * size]; _labels = new int[n]; }
        for (int i = 0; i < n; i++)
        {
            values.AsSpan(indices[i] * size, size).CopyTo(_batch.AsSpan(i * size));
            _labels[i] = labels[indices[i]];
        }
        return network.TrainStep(_batch.AsSpan(0, n * size), _labels.AsSpan(0, n), learningRate);
    }

    public void Infer(INetwork network, int start, int count, Span<float> logits)
        => network.Infer(values.AsSpan(start * SampleSize, count * SampleSize), logits);

    /// <summary><paramref name="count"/> samples of <paramref name="features"/> values in [−1, 1); the label is the
    /// arg-max of the first <paramref name="classes"/> features (a rule a small network learns quickly).</summary>
    public static FloatSamples Separable(int count, int features, int classes, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * features];
        var y = new int[count];
        for (int i = 0; i < count; i++)
        {
            for (int f = 0; f < features; f++) x[i * features + f] = (float)(rng.NextDouble() * 2 - 1);
            int arg = 0;
            for (int c = 1; c < classes; c++) if (x[i * features + c] > x[i * features + arg]) arg = c;
            y[i] = arg;
        }
        return new FloatSamples(x, y);
    }
}
