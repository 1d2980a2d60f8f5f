namespace Kvasir.Model.Tokenizers;

/// <summary>The built-in training text.</summary>
public static partial class VocabBuilder
{
    /// <summary>
    /// A few kilobytes of varied English prose, written for this project (no third-party text), so that
    /// kvasir make-model can build a vocabulary without any file: narrative, dialogue, instructions, numbers,
    /// punctuation, a little code and a few accented words.
    /// </summary>
    public static string DefaultCorpus => Corpus;

    private const string Corpus = """
        The lighthouse keeper woke before the gulls. She lit the small stove, filled the kettle from the rain barrel,
        and watched the grey line of the horizon turn silver, then gold. Every morning she wrote three things in the
        logbook: the wind, the state of the sea, and one thing she had not noticed the day before. Today it was a
        heron standing on the rocks below the tower, perfectly still, as if it were waiting for a train.

        "Are you going into town?" asked her neighbour, who rowed across the bay twice a week with bread and letters.
        "Not today," she said. "The glass is falling, and I'd rather be here when the weather turns."
        "Then I'll leave the parcel by the door. It's heavier than it looks, so don't drop it on your toes."

        A good loaf needs only four things: flour, water, salt and time. Mix 500 grams of flour with 350 grams of
        warm water and let it rest for thirty minutes. Add 10 grams of salt and a spoonful of starter, then fold the
        dough every half hour for the next three hours. Shape it, cover it, and leave it in a cool place overnight.
        Bake it at 250 degrees for 20 minutes with the lid on and another 25 minutes with the lid off. If the crust
        sounds hollow when you tap the bottom, it's done; if not, give it five more minutes and try again.

        The old railway line runs for 42 kilometres along the valley floor. Trains stopped using it in 1987, and for
        years it was left to the brambles. Then a group of volunteers cleared the track bed, repaired two bridges and
        opened it as a path for walkers and cyclists. On a clear Saturday in spring you might meet a hundred people:
        families with pushchairs, runners in bright jackets, an elderly man who carries a notebook and records every
        bird he hears. He told me he had counted 87 species since he started, including a kingfisher, which he saw
        only once, on the 3rd of May, at a quarter past seven in the evening.

        Why do we remember some days and forget others? Perhaps memory keeps what surprised us. The day the power went
        out and the whole street ate supper by candlelight; the afternoon the river froze and the children slid
        across it, shrieking; the evening a stranger played the piano at the station while everyone waited for a
        delayed train. None of these days were important, yet each of them is still clear, like a photograph kept in
        a drawer and taken out now and then.

        Instructions for the new printer:
        1. Unpack the box and remove all orange tape.
        2. Connect the power cable, but don't switch it on yet.
        3. Insert the cartridges (black on the left, colour on the right) until they click.
        4. Press and hold the power button for 3 seconds; the light should blink twice.
        5. If the display shows "Error 0x1F", open the front cover and close it again.

        The committee met on Tuesday at 9:30. Present were the chair, the treasurer, and four members; two sent their
        apologies. The treasurer reported a balance of 12,480.75, slightly more than last year. After a long
        discussion about the roof - which leaks again - it was agreed to ask three builders for quotes before the end
        of the month. Any other business: the café at the community hall will open on Sundays from June, and the
        naïve mural painted by the school children will stay where it is, because everyone likes it.

        She kept a simple rule for writing code: make it work, make it clear, and only then make it fast.
            def average(values):
                if not values:
                    return 0.0
                return sum(values) / len(values)
        The function above returns zero for an empty list instead of raising an error, which may or may not be what
        you want. "It depends," she would say, "on who calls it and what they expect."

        At night the beam swept across the water every ten seconds: one long flash, then darkness, then another. Ships
        far out at sea counted the rhythm and knew exactly where they were. She liked to think that somewhere out
        there a sailor was counting too, one, two, three, four, and feeling a little less alone.

        Questions are better than answers, a teacher once told me. An answer closes a door; a question opens one.
        What would happen if the tide did not come back? How many stars can you see from the middle of a field on a
        moonless night? Why does bread smell so good? I still don't know all of the answers, and I'm glad.
        """;
}
