using System;
using System.Reflection;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using GraphGen.Samples;
using GraphGen.Simd;

namespace GraphGen.Benchmarks;

/// <summary>
/// Each LeNet-BN kernel alone, on one chunk of images held in cache (16 with AVX-512, 8 with AVX2),
/// one thread: the forward and backward kernels of every layer. GFLOP/s = MACs·2·lanes / time; the
/// per-chunk MAC counts are in the descriptions. The generated kernels are internal static methods of
/// the file class that the LeNet facade holds; the set-up binds a delegate to each one for the SIMD
/// path, so the benchmark calls exactly the code a training step runs (plus a delegate call, a few
/// nanoseconds against microseconds of kernel).
/// </summary>
public class LayerBenchmarks
{
    private delegate void Forward(ref float x, ref float w, ref float b, ref float z, ref float stats, bool withStats);
    private delegate void Kernel3(ref float a, ref float b, ref float c);
    private delegate void Kernel6(ref float a, ref float b, ref float c, ref float d, ref float e, ref float f);
    private delegate void Kernel9(ref float a, ref float b, ref float c, ref float d, ref float e, ref float f, ref float g, ref float h, ref float i);

    private Forward _conv1Forward = null!, _conv2Forward = null!, _dense1Forward = null!;
    private Kernel3 _conv1Weights = null!, _conv2Weights = null!, _conv2InputGrad = null!, _dense1InputGrad = null!;
    private Kernel6 _g0Post = null!, _g0BatchNormBack = null!;
    private Kernel9 _g0PostBack = null!;

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
        // The generated network: the object in the facade's one field.
        using var lenet = new LeNet(new NetworkOptions { Threads = 1, MaxBatch = 16 });
        Type network = typeof(LeNet).GetField("_graphGen", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(lenet)!.GetType();
        Type[] path = Wide ? [typeof(Vector512<float>), typeof(Vec512)] : [typeof(Vector256<float>), typeof(Vec256)];
        T Bind<T>(string name) where T : Delegate =>
            (network.GetMethod(name, BindingFlags.NonPublic | BindingFlags.Static) ?? throw new MissingMethodException(network.Name, name))
            .MakeGenericMethod(path).CreateDelegate<T>();
        _conv1Forward = Bind<Forward>("Conv1Forward");
        _conv1Weights = Bind<Kernel3>("Conv1Weights");
        _conv2Forward = Bind<Forward>("Conv2Forward");
        _conv2Weights = Bind<Kernel3>("Conv2Weights");
        _conv2InputGrad = Bind<Kernel3>("Conv2InputGrad");
        _dense1Forward = Bind<Forward>("Dense1Forward");
        _dense1InputGrad = Bind<Kernel3>("Dense1InputGrad");
        _g0Post = Bind<Kernel6>("G0Post");
        _g0PostBack = Bind<Kernel9>("G0PostBack");
        _g0BatchNormBack = Bind<Kernel6>("G0BatchNormBack");
    }

    [Benchmark(Description = "conv1 forward + BN stats (86,400 MAC/image)")]
    public void Conv1Forward()
    {
        _conv1Forward(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "conv1 weight gradient (86,400 MAC/image)")]
    public void Conv1Weights()
    {
        _conv1Weights(ref _a[0], ref _b[0], ref _w[0]);
    }

    [Benchmark(Description = "conv2 forward + BN stats (153,600 MAC/image)")]
    public void Conv2Forward()
    {
        _conv2Forward(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "conv2 weight gradient (153,600 MAC/image)")]
    public void Conv2Weights()
    {
        _conv2Weights(ref _a[0], ref _b[0], ref _w[0]);
    }

    [Benchmark(Description = "conv2 input gradient (153,600 MAC/image)")]
    public void Conv2InputGrad()
    {
        _conv2InputGrad(ref _b[0], ref _w[0], ref _c[0]);
    }

    [Benchmark(Description = "dense1 forward + BN stats (30,720 MAC/image)")]
    public void Dense1Forward()
    {
        _dense1Forward(ref _a[0], ref _w[0], ref _bias[0], ref _b[0], ref _stats[0], true);
    }

    [Benchmark(Description = "dense1 input gradient (30,720 MAC/image)")]
    public void Dense1InputGrad()
    {
        _dense1InputGrad(ref _b[0], ref _w[0], ref _c[0]);
    }

    [Benchmark(Description = "BN1+sigmoid1+maxpool1 epilogue (3,456 values/image)")]
    public void Post0()
    {
        _g0Post(ref _a[0], ref _bias[0], ref _bias[8], ref _bias[16], ref _b[0], ref _c[0]);
    }

    [Benchmark(Description = "maxpool1+sigmoid1+BN1 backward (3,456 values/image)")]
    public void PostBack0()
    {
        _g0PostBack(ref _b[0], ref _c[0], ref _stats[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _c[8192], ref _stats[60000]);
    }

    [Benchmark(Description = "BN1 dx (3,456 values/image)")]
    public void BatchNormBack0()
    {
        _g0BatchNormBack(ref _b[0], ref _a[0], ref _bias[0], ref _bias[16], ref _bias[32], ref _bias[48]);
    }
}
