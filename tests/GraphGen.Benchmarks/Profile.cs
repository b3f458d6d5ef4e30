using System;
using System.Diagnostics;
using System.Linq;
using GraphGen.Samples;

namespace GraphGen.Benchmarks;

/// <summary>Trains LeNet-BN on batches of 256 and prints where a step's time goes, phase by phase.</summary>
internal static class Profile
{
    public static int Run(string[] args)
    {
        int steps = args.Length > 0 ? int.Parse(args[0]) : 200;
        int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
        var simd = args.Length > 2 ? Enum.Parse<SimdPath>(args[2]) : SimdPath.Auto;
        var data = BenchData.Train(steps * 256 % 60000 == 0 ? 60000 : 60000);
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = threads, Simd = simd });
        var pixels = new byte[256 * 784];
        var labels = new int[256];
        int[] order = Enumerable.Range(0, data.Count).ToArray();
        void Step(int i)
        {
            int start = (i * 256) % (data.Count - 256);
            data.Gather(order.AsSpan(start, 256), pixels, labels);
            net.TrainStep(pixels, labels, 1.0f);
        }
        for (int i = 0; i < 30; i++) Step(i); // JIT and caches
        net.ResetPhaseTimes();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) Step(i);
        double seconds = clock.Elapsed.TotalSeconds;
        var phases = net.PhaseTimes;
        double sum = phases.Sum(p => p.Total.TotalSeconds);
        Console.WriteLine($"{net.Simd}, {net.Threads} thread(s), {steps} steps of 256: {steps * 256 / seconds:N0} images/s, {seconds / steps * 1e3:F3} ms/step (phases {sum / steps * 1e3:F3} ms)");
        foreach (var p in phases)
            Console.WriteLine($"  {p.Total.TotalSeconds / steps * 1e6,8:F1} us  {p.Total.TotalSeconds / sum,6:P1}  {p.Phase}");
        var logits = new float[10000 * 10];
        var test = BenchData.Test();
        net.Infer(test.Pixels, logits);
        clock.Restart();
        int reps = 5;
        for (int r = 0; r < reps; r++) net.Infer(test.Pixels, logits);
        Console.WriteLine($"inference: {reps * test.Count / clock.Elapsed.TotalSeconds:N0} images/s (10,000 test images per call)");
        return 0;
    }
}
