using System;
using System.Linq;
using GraphGen.Execution;
using Xunit;

namespace GraphGen.Tests.Runtime;

/// <summary>The runtime's non-generated kernels against hand-computed values.</summary>
public class KernelsTests
{
    [Fact]
    public void SoftmaxCrossEntropyMatchesHandComputedValues()
    {
        // Two lanes (images), three classes, laid out [class][lane]; lane 1 is past the batch.
        // Image 0: logits (1, 2, 3), label 2: loss = log(e¹+e²+e³) − 3 = 0.40760596444…
        float[] logits = { 1f, 9f, 2f, 9f, 3f, 9f };
        var gradient = new float[6];
        var (loss, correct) = Kernels.SoftmaxCrossEntropy(logits, classes: 3, lanes: 2, valid: 1, labels: new[] { 2, 0 }, invBatch: 0.5f, gradient);
        Assert.Equal(0.40760596444438, loss, 12);
        Assert.Equal(1, correct);
        double z = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(1) / z * 0.5, gradient[0], 6);
        Assert.Equal(Math.Exp(2) / z * 0.5, gradient[2], 6);
        Assert.Equal((Math.Exp(3) / z - 1) * 0.5, gradient[4], 6);
        Assert.Equal(0f, gradient[1]); // the lane past the batch gets no gradient
        Assert.Equal(0f, gradient[3]);
        Assert.Equal(0f, gradient[5]);
    }

    [Fact]
    public void SoftmaxCrossEntropyIsStableForHugeLogitsAndBreaksTiesToTheFirstClass()
    {
        float[] logits = { 1000f, 1000f, -1000f };
        var gradient = new float[3];
        var (loss, correct) = Kernels.SoftmaxCrossEntropy(logits, 3, 1, 1, new[] { 1 }, 1f, gradient);
        Assert.Equal(Math.Log(2), loss, 12);
        Assert.Equal(0, correct); // tie between classes 0 and 1: the prediction is class 0
        Assert.Equal(new[] { 0.5f, -0.5f, 0f }, gradient);
    }

    [Fact]
    public void SgdStepUpdatesAndReportsNonFiniteWeights()
    {
        var w = Enumerable.Range(0, 37).Select(i => (float)i).ToArray();
        var g = Enumerable.Range(0, 37).Select(i => 2f).ToArray();
        Assert.True(Kernels.SgdStep(w, g, 0.25f));
        Assert.Equal(Enumerable.Range(0, 37).Select(i => i - 0.5f), w);
        g[36] = float.PositiveInfinity; // in the scalar tail
        Assert.False(Kernels.SgdStep(w, g, 1f));
        g[36] = 0; g[3] = float.NaN; // in the vector part
        w[36] = 0;
        Assert.False(Kernels.SgdStep(w, g, 1f));
        Assert.True(Kernels.SgdStep(new float[5], new float[5], 1e30f));
        Assert.False(Kernels.SgdStep(new[] { 1f }, new[] { -3e38f }, 1e10f)); // overflow to ∞
    }

    [Fact]
    public void SumChunksAddsEveryChunk()
    {
        // [chunk][stride = 4]: two values per chunk at offset 1.
        float[] partials = { 0, 1, 2, 0, 0, 10, 20, 0, 0, 100, 200, 0 };
        var sum = new float[2];
        Kernels.SumChunks(partials, 4, 3, sum, offset: 1);
        Assert.Equal(new[] { 111f, 222f }, sum);
    }

    [Fact]
    public void SumChunksIsPairwise()
    {
        // 4096 chunks of 0.1f: added one after the other in float the sum drifts to 409.61578; pairwise every
        // level adds equal values, so the sum is 4096 * 0.1f exactly (409.60001). Nine values per chunk so both
        // the vector part and the tail are checked.
        const int chunks = 4096, width = 9, stride = 16;
        var partials = new float[chunks * stride];
        for (int c = 0; c < chunks; c++) for (int i = 0; i < width; i++) partials[c * stride + 3 + i] = 0.1f;
        var sum = new float[width];
        Kernels.SumChunks(partials, stride, chunks, sum, offset: 3);
        Assert.All(sum, s => Assert.Equal(4096 * 0.1f, s));
        float sequential = 0;
        for (int c = 0; c < chunks; c++) sequential += 0.1f;
        Assert.NotEqual(4096 * 0.1f, sequential);
    }

    [Fact]
    public void PadAndCropAreInverse()
    {
        int c = 2, h = 3, w = 4, p = 2, lanes = 4;
        var src = Enumerable.Range(1, c * h * w * lanes).Select(i => (float)i).ToArray();
        var padded = Enumerable.Repeat(-1f, c * (h + 2 * p) * (w + 2 * p) * lanes).ToArray();
        Kernels.Pad(src, padded, c, h, w, p, lanes);
        Assert.Equal(src.Sum(), padded.Sum()); // the border is zero
        Assert.Equal(0f, padded[0]);
        var back = new float[src.Length];
        Kernels.Crop(padded, back, c, h, w, p, lanes);
        Assert.Equal(src, back);
    }

    [Fact]
    public void LanesPackAndUnpackRoundTripAndNonFiniteValuesAreFound()
    {
        int batch = 5, features = 3, lanes = 4;
        var x = Enumerable.Range(0, batch * features).Select(i => (float)i).ToArray();
        var packed = new float[2 * 16];
        LaneLayout.Pack(x, batch, features, lanes, packed, 16);
        Assert.Equal(new float[] { 0, 3, 6, 9 }, packed.AsSpan(0, 4).ToArray()); // feature 0 of images 0..3
        Assert.Equal(new float[] { 12, 0, 0, 0 }, packed.AsSpan(16, 4).ToArray()); // image 4, then empty lanes
        var back = new float[x.Length];
        LaneLayout.Unpack(packed, 16, batch, features, lanes, back);
        Assert.Equal(x, back);
        Assert.True(LaneLayout.AllFinite(x));
        x[7] = float.NaN;
        Assert.False(LaneLayout.AllFinite(x));
        x[7] = float.NegativeInfinity;
        Assert.False(LaneLayout.AllFinite(x));
        x[7] = 0; x[^1] = float.PositiveInfinity; // in the scalar tail
        Assert.False(LaneLayout.AllFinite(x));
    }
}
