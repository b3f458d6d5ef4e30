using System;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using GraphGen.Samples;
using GraphGen.Simd;

namespace GraphGen.Benchmarks;

/// <summary>
/// Each LeNet-BN kernel alone, on one chunk of images held in cache (16 with AVX-512, 8 with AVX2),
/// one thread: the forward and backward kernels of every layer. GFLOP/s = MACs·2·lanes / time; the
/// per-chunk MAC counts are in the descriptions. The generated kernels are internal static methods of
/// the network class, so the benchmark calls exactly the code a training step runs.
/// </summary>
public class LayerBenchmarks
{
    private readonly float[] _a = Make(16 * 4096), _b = Make(16 * 4096), _c = Make(16 * 4096), _w = Make(32768), _bias = Make(256), _stats = new float[16 * 4096];

    private static float[] Make(int n)
    {
        var r = new Random(n);
        var a = new float[n + 64];
        for (int i = 0; i < a.Length; i++) a[i] = (float)(r.NextDouble() - 0.5);
        return a;
    }

    [Params(SimdPath.Vector512, SimdPath.Vector256)] public SimdPath Simd;

    private bool Wide => Simd == SimdPath.Vector512;

    [GlobalSetup]
    public void Setup()
    {
        if (Wide && !Vector512.IsHardwareAccelerated) throw new NotSupportedException("no AVX-512 on this machine");
    }

    [Benchmark(Description = "conv1 forward + BN stats (86,400 MAC/image)")]
    public void Conv1Forward()
    {
        if (Wide) LeNet.Conv1Forward<Vector512<float>, Vec512>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
        else LeNet.Conv1Forward<Vector256<float>, Vec256>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "conv1 weight gradient (86,400 MAC/image)")]
    public void Conv1Weights()
    {
        if (Wide) LeNet.Conv1Weights<Vector512<float>, Vec512>(ref _a[0], ref _b[0], ref _w[0]);
        else LeNet.Conv1Weights<Vector256<float>, Vec256>(ref _a[0], ref _b[0], ref _w[0]);
    }

    [Benchmark(Description = "conv2 forward + BN stats (153,600 MAC/image)")]
    public void Conv2Forward()
    {
        if (Wide) LeNet.Conv2Forward<Vector512<float>, Vec512>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
        else LeNet.Conv2Forward<Vector256<float>, Vec256>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "conv2 weight gradient (153,600 MAC/image)")]
    public void Conv2Weights()
    {
        if (Wide) LeNet.Conv2Weights<Vector512<float>, Vec512>(ref _a[0], ref _b[0], ref _w[0]);
        else LeNet.Conv2Weights<Vector256<float>, Vec256>(ref _a[0], ref _b[0], ref _w[0]);
    }

    [Benchmark(Description = "conv2 input gradient (153,600 MAC/image)")]
    public void Conv2InputGrad()
    {
        if (Wide) LeNet.Conv2InputGrad<Vector512<float>, Vec512>(ref _b[0], ref _w[0], ref _c[0]);
        else LeNet.Conv2InputGrad<Vector256<float>, Vec256>(ref _b[0], ref _w[0], ref _c[0]);
    }

    [Benchmark(Description = "dense1 forward + BN stats (30,720 MAC/image)")]
    public void Dense1Forward()
    {
        if (Wide) LeNet.Dense1Forward<Vector512<float>, Vec512>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
        else LeNet.Dense1Forward<Vector256<float>, Vec256>(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "dense1 input gradient (30,720 MAC/image)")]
    public void Dense1InputGrad()
    {
        if (Wide) LeNet.Dense1InputGrad<Vector512<float>, Vec512>(ref _b[0], ref _w[0], ref _c[0]);
        else LeNet.Dense1InputGrad<Vector256<float>, Vec256>(ref _b[0], ref _w[0], ref _c[0]);
    }

    [Benchmark(Description = "BN1+sigmoid1+maxpool1 epilogue (3,456 values/image)")]
    public void Post0()
    {
        if (Wide) LeNet.G0Post<Vector512<float>, Vec512>(ref _a[0], ref _bias[0], ref _bias[8], ref _bias[16], ref _b[0], ref _c[0]);
        else LeNet.G0Post<Vector256<float>, Vec256>(ref _a[0], ref _bias[0], ref _bias[8], ref _bias[16], ref _b[0], ref _c[0]);
    }

    [Benchmark(Description = "maxpool1+sigmoid1+BN1 backward (3,456 values/image)")]
    public void PostBack0()
    {
        if (Wide) LeNet.G0PostBack<Vector512<float>, Vec512>(ref _b[0], ref _c[0], ref _stats[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _c[8192], ref _stats[60000]);
        else LeNet.G0PostBack<Vector256<float>, Vec256>(ref _b[0], ref _c[0], ref _stats[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _c[8192], ref _stats[60000]);
    }

    [Benchmark(Description = "BN1 dx (3,456 values/image)")]
    public void BatchNormBack0()
    {
        if (Wide) LeNet.G0BatchNormBack<Vector512<float>, Vec512>(ref _b[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _bias[48]);
        else LeNet.G0BatchNormBack<Vector256<float>, Vec256>(ref _b[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _bias[48]);
    }
}
