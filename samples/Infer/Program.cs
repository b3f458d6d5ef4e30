using System;
using System.Diagnostics;
using GraphGen;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Training;

// lenet-infer CHECKPOINT [INDEX]: the inference half of the LeNet sample, small enough to publish as
// a NativeAOT executable. Without INDEX it evaluates the whole FashionMNIST test set; with one, it
// classifies that test image.
if (args.Length is < 1 or > 2 || (args.Length == 2 && !int.TryParse(args[1], out _)))
{
    Console.Error.WriteLine("usage: lenet-infer CHECKPOINT [TEST-IMAGE-INDEX]");
    return 2;
}
long started = Stopwatch.GetTimestamp();
try
{
    using var net = new LeNet(new NetworkOptions { Threads = Environment.ProcessorCount });
    Checkpoint.Load(net, args[0]);
    Dataset test = FashionMnist.LoadTest();
    TimeSpan ready = Stopwatch.GetElapsedTime(started);
    if (args.Length == 2)
    {
        int index = int.Parse(args[1]);
        if ((uint)index >= (uint)test.Count) { Console.Error.WriteLine($"lenet-infer: index {index} is outside 0..{test.Count - 1}"); return 2; }
        var logits = new float[net.Classes];
        net.Infer(test.Image(index), logits);
        int best = Trainer.ArgMax(logits);
        Console.WriteLine($"test image {index}: {FashionMnist.ClassNames[best]} (label: {FashionMnist.ClassNames[test.Labels[index]]})");
    }
    else
    {
        var clock = Stopwatch.StartNew();
        double accuracy = Trainer.Evaluate(net, test);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine($"test accuracy {accuracy:F4} on {test.Count} images: {test.Count / seconds:N0} images/s ({net.Simd}, {net.Threads} threads)");
    }
    Console.WriteLine($"start-up (load checkpoint and test set): {ready.TotalMilliseconds:F0} ms; total {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms");
    return 0;
}
catch (Exception e) when (e is CheckpointException or DataFormatException)
{
    Console.Error.WriteLine($"lenet-infer: {e.Message}");
    return 1;
}
