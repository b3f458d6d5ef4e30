using System;
using GraphGen;
using GraphGen.Data;
using GraphGen.Training;

// A multilayer perceptron with batch normalization on flattened FashionMNIST images: the 2-D
// (per-feature) kind of batch norm, where the LeNet sample shows the per-channel kind.
//   dotnet run -c Release --project samples/Mlp -- [epochs] [data directory]
int epochs = args.Length > 0 && int.TryParse(args[0], out int e) && e > 0 ? e : 5;
string? directory = args.Length > 1 ? args[1] : null;
try
{
    Dataset train = FashionMnist.LoadTrain(directory), test = FashionMnist.LoadTest(directory);
    using var net = new Mlp(seed: 0);
    Console.Write(net.Summary());
    var trainer = new Trainer(net, train, test, new TrainOptions { Epochs = epochs, BatchSize = 256, LearningRate = 0.5f, Seed = 0 });
    Console.WriteLine($"{"epoch",5} {"loss",8} {"train acc",9} {"test acc",8} {"images/s",9}");
    for (int epoch = 1; epoch <= epochs; epoch++)
    {
        EpochResult r = trainer.RunEpoch(epoch);
        Console.WriteLine($"{r.Epoch,5} {r.Loss,8:F4} {r.TrainAccuracy,9:F4} {r.TestAccuracy,8:F4} {r.ImagesPerSecond,9:N0}");
    }
    return 0;
}
catch (Exception ex) when (ex is DataFormatException or DivergenceException)
{
    Console.Error.WriteLine($"mlp: {ex.Message}");
    return 1;
}

/// <summary>784 → 256 → 128 → 10 with batch norm and ReLU after each hidden layer.</summary>
[Network(Features = 784)]
[Dense(256)] [BatchNorm] [ReLU]
[Dense(128)] [BatchNorm] [ReLU]
[Dense(10)]
public partial class Mlp { }
