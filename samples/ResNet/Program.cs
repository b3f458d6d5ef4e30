using System;
using System.CommandLine;
using System.IO;
using GraphGen;
using GraphGen.Checkpoints;
using GraphGen.Data;
using GraphGen.Samples;
using GraphGen.Training;

// Trains ResNet8 (ResNet8.cs) on FashionMNIST with plain SGD and reports loss, train and test
// accuracy per epoch:  dotnet run -c Release --project samples/ResNet -- train --epochs 5
var epochs = new Option<int>("--epochs") { Description = "Epochs to train", DefaultValueFactory = _ => 5 };
var batch = new Option<int>("--batch-size") { Description = "Samples per SGD step", DefaultValueFactory = _ => 128 };
var lr = new Option<float>("--lr") { Description = "Learning rate", DefaultValueFactory = _ => 0.2f };
var seed = new Option<int>("--seed") { Description = "Seed of the initialization and the shuffles", DefaultValueFactory = _ => 0 };
var threads = new Option<int>("--threads") { Description = "Threads per step", DefaultValueFactory = _ => Environment.ProcessorCount };
var limit = new Option<int>("--limit") { Description = "Train on the first N images only (0: all)", DefaultValueFactory = _ => 0 };
var dataDir = new Option<string?>("--data-dir") { Description = $"Directory with the four FashionMNIST .gz files (default: {FashionMnist.DefaultDirectory})" };
var save = new Option<FileInfo?>("--save") { Description = "Write a safetensors checkpoint here at the end" };
var noInstall = new Option<bool>("--no-install") { Description = "Do not install the data set when it is missing" };

var train = new Command("train", "Train ResNet8 on FashionMNIST") { epochs, batch, lr, seed, threads, limit, dataDir, save, noInstall };
train.SetAction(r => Train(r.GetValue(epochs), r.GetValue(batch), r.GetValue(lr), r.GetValue(seed), r.GetValue(threads),
    r.GetValue(limit), r.GetValue(dataDir), r.GetValue(save), !r.GetValue(noInstall)));
var summary = new Command("summary", "The layers, what each reads, and their output shapes");
summary.SetAction(_ => { using var net = new ResNet8(); Console.Write(net.Summary()); return 0; });
return new RootCommand("GraphGen's ResNet8 on FashionMNIST: residual blocks compiled from attributes") { train, summary }.Parse(args).Invoke();

static int Train(int epochs, int batchSize, float lr, int seed, int threads, int limit, string? dataDir, FileInfo? save, bool install)
{
    if (epochs < 1 || batchSize < 1 || threads < 1 || limit < 0 || !(lr > 0) || !float.IsFinite(lr))
    {
        Console.Error.WriteLine("resnet: --epochs, --batch-size and --threads must be at least 1, --limit at least 0, and --lr a positive number");
        return 2;
    }
    try
    {
        DataSetup.Ensure(dataDir, install, Console.Error.WriteLine);
        Dataset trainSet = FashionMnist.LoadTrain(dataDir), testSet = FashionMnist.LoadTest(dataDir);
        if (limit > 0 && limit < trainSet.Count) trainSet = trainSet.Take(limit);
        using var net = new ResNet8(new NetworkOptions { Seed = seed, MaxBatch = batchSize, Threads = threads });
        Console.Write(net.Summary());
        Console.WriteLine($"SIMD path {net.Simd}, {net.Threads} threads, batch {batchSize}, lr {lr}, {trainSet.Count:N0} training images");
        var trainer = new Trainer(net, trainSet, testSet, new TrainOptions { Epochs = epochs, BatchSize = batchSize, LearningRate = lr, Seed = seed });
        Console.WriteLine($"{"epoch",5} {"loss",8} {"train acc",9} {"test acc",8} {"seconds",8} {"images/s",9}");
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            EpochResult r = trainer.RunEpoch(epoch);
            Console.WriteLine($"{r.Epoch,5} {r.Loss,8:F4} {r.TrainAccuracy,9:F4} {r.TestAccuracy,8:F4} {r.TrainTime.TotalSeconds,8:F1} {r.ImagesPerSecond,9:N0}");
        }
        if (save is not null)
        {
            Checkpoint.Save(net, save.FullName);
            Console.WriteLine($"saved {save.FullName}");
        }
        return 0;
    }
    catch (Exception ex) when (ex is DataFormatException or DivergenceException or CheckpointException or IOException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"resnet: {ex.Message}");
        return 1;
    }
}
