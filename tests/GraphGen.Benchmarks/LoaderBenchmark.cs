using System;
using System.Diagnostics;
using GraphGen.Data;
using GraphGen.Samples;

namespace GraphGen.Benchmarks;

/// <summary>
/// How much of a training epoch is spent outside the step: LeNet-BN on the 60,000 training images, batch 256,
/// pulling batches from <see cref="BatchLoader"/> with and without prefetch, with and without augmentation
/// (random crop with padding 2, horizontal flip, normalization). Outside = epoch time - time inside TrainStep.
///   dotnet run -c Release --project tests/GraphGen.Benchmarks -- loader [epochs] [threads]
/// </summary>
internal static class LoaderBenchmark
{
    public static int Run(string[] args)
    {
        int epochs = args.Length > 0 ? int.Parse(args[0]) : 2;
        int threads = args.Length > 1 ? int.Parse(args[1]) : Environment.ProcessorCount;
        Dataset data = BenchData.Train();
        var (mean, std) = Augmentation.Statistics(data);
        var augment = new Augmentation { CropPadding = 2, HorizontalFlip = true, Mean = mean, Std = std };
        Console.WriteLine($"LeNet-BN, {data.Count} images, batch 256, {threads} threads, {Environment.ProcessorCount} cores; median of {epochs} epochs");
        Console.WriteLine($"{"batches",-22} {"prefetch",-9} {"epoch s",8} {"in step s",10} {"outside s",10} {"outside",8} {"waited s",9} {"prepared s",11}");
        foreach (Augmentation? a in new[] { null, augment })
            foreach (bool prefetch in new[] { false, true })
                Measure(data, a, prefetch, epochs, threads);
        return 0;
    }

    private static void Measure(Dataset data, Augmentation? augmentation, bool prefetch, int epochs, int threads)
    {
        using var net = new LeNet(new NetworkOptions { Seed = 1, Threads = threads });
        using var loader = new BatchLoader(data, 256, seed: 1, augmentation: augmentation, prefetch: prefetch);
        var rows = new (double Epoch, double Step, double Wait, double Prepare)[epochs];
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            long inStep = 0;
            var clock = Stopwatch.StartNew();
            loader.StartEpoch(epoch);
            while (loader.TryNext(out Batch batch))
            {
                long start = Stopwatch.GetTimestamp();
                var r = batch.IsBytes ? net.TrainStep(batch.Pixels, batch.Labels, 0.1f) : net.TrainStep(batch.Values, batch.Labels, 0.1f);
                inStep += Stopwatch.GetTimestamp() - start;
                if (!r.IsFinite) throw new InvalidOperationException("diverged");
            }
            rows[epoch - 1] = (clock.Elapsed.TotalSeconds, Stopwatch.GetElapsedTime(0, inStep).TotalSeconds, loader.WaitTime.TotalSeconds, loader.PrepareTime.TotalSeconds);
        }
        Array.Sort(rows, (x, y) => x.Epoch.CompareTo(y.Epoch));
        var (e, s, w, p) = rows[epochs / 2];
        string kind = augmentation is null ? "bytes, no augmentation" : "crop+flip+normalize";
        Console.WriteLine($"{kind,-22} {(prefetch ? "on" : "off"),-9} {e,8:F2} {s,10:F2} {e - s,10:F2} {(e - s) / e,8:P1} {w,9:F2} {p,11:F2}");
    }
}
