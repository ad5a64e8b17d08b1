"""Lessons 9-10: the encoder-decoder and its context vector; attention as the fix for a fixed-size context.

The live states are the simulator's encoder-decoder view (/seq2seq) with the shipped translation preset, a GRU
encoder-decoder trained on short English -> French pairs; it was trained with dot attention, which lesson 10
opens up. Teacher forcing and the bottleneck use the sentences task's pair of presets (core.bottleneck): the
same GRU trained on sentences of 3 to 19 words with and without attention.
"""

from __future__ import annotations

from app.lessons.model import Lesson, Live, Step

STUDENT, WATCHING, DOG = "I am a student", "They are watching .", "She sees the dog ."
LONG = "A quiet bird follows the fast car behind a red house with the young dog under a tree"
PLAIN, ATTENDING = "sentences-no-attention", "sentences-attention"

ENCODER_DECODER = Lesson(
    "encoder-decoder",
    "Encoder-decoder: sequence to sequence",
    "Two recurrent networks in a row: one reads the source sentence into a vector, the other writes the "
    "target sentence from it, one token at a time, for input and output of different lengths.",
    (
        Step(
            "Encoding “I am a student”, one word at a time",
            (
                "The encoder is an ordinary RNN (a GRU here) that reads the source one token per step. At "
                "the first step the previous state h_0 is all zeros, so h_1 depends on “I” alone; h_2 mixes "
                "“am” with h_1, and so on.",
                "The encoder's own outputs are not used for a prediction; what matters is the hidden "
                "state it "
                "passes along.",
            ),
            "Press → three times and watch the encoder row fill in: four words, four states.",
            Live("seq2seq", {"input": STUDENT, "t": 0}),
            ("h_t = f(W_hh h_{t-1} + W_hx x_t),  h_0 = 0",),
        ),
        Step(
            "The context vector",
            (
                "After the last word the encoder's final state h_4 is the context vector, sometimes called "
                "the thought vector: a fixed number of values (32 here) that has to summarise the whole "
                "sentence.",
                "It becomes the decoder's initial state. Everything the decoder will know about the source "
                "must pass through this one vector, however long the sentence.",
            ),
            "Compare the context column with the encoder's last column: they hold the same numbers.",
            Live("seq2seq", {"input": STUDENT, "t": 3}),
            ("context = h_S = s_0",),
        ),
        Step(
            "Decoding “They are watching .” from START",
            (
                "The decoder is a second RNN with its own weights. Its first input is a special START token, "
                "its first state the context vector; from these it computes s_1 and a probability for every "
                "French word, and the most likely one, “Ils”, is written out.",
                "The source has four tokens and the translation three words plus END: the two lengths do not "
                "have to match.",
            ),
            "Step to the first decoder column. How sure is the model about “Ils”, and what came second?",
            Live("seq2seq", {"input": WATCHING, "t": 4}),
            ("s_t = f(W_hh s_{t-1} + W_hx y_{t-1}),  y_0 = START,  s_0 = context",),
        ),
        Step(
            "Feeding back until END",
            (
                "At every later step the decoder reads the word it just wrote, so “Ils” becomes the input "
                "that produces “regardent”. Decoding stops when the model writes END, or at a length cap.",
                "During training the decoder is usually fed the correct previous word instead of its own "
                "guess (teacher forcing); at translation time it only has its own guesses.",
            ),
            "Step to the END column and read the whole output row: Ils regardent .",
            Live("seq2seq", {"input": WATCHING, "t": 7}),
        ),
        Step(
            "Predict: the next word",
            (
                "The trained model is translating “She sees the dog .” and has written three words so far. "
                "At every step the decoder reads the word it wrote last, updates its state and scores every "
                "French word it knows; greedy decoding writes the best-scored one.",
                "Before the picture is shown, guess what comes next. The choices are the model's own three "
                "favourites at this step and one word it finds unlikely here.",
            ),
            "After the reveal, open the decoder column's list of candidates: how far behind is the second "
            "choice?",
            Live("seq2seq", {"input": DOG, "t": 8}),
            ("y_t = argmax_w softmax(W_o o_t + b_o)_w",),
            predict="write",
        ),
        Step(
            "Teacher forcing: fed the right words, or its own",
            (
                "Here a model without attention translates an 18-word sentence, with teacher forcing on: every "
                "decoder step reads the reference's previous word, as in training. The row below it is the same "
                "model running free, reading the words it wrote itself.",
                "Fed the reference, each mistake stays a single wrong word. Running free, a wrong word is read "
                "back in and the words after it go wrong as well: the gap between the two rows is what the "
                "decoder pays for its own mistakes at translation time.",
            ),
            "Untick Teacher forcing and watch the output change; which step is the first to differ?",
            Live("seq2seq", {"preset": PLAIN, "input": LONG, "tf": True, "t": 22}),
        ),
        Step(
            "Inside a decoder cell",
            (
                "Each decoder step is one GRU cell, the same drawing as the simulator's: a reset gate r "
                "decides how much of s_{t-1} the candidate may use, an update gate z how much of the old state "
                "to keep.",
                "Its input x_t is the embedding of the word it was fed; its previous state is the decoder's "
                "own. Step through the four sub-steps with . and ,.",
            ),
            "Is unit 0's update gate z near 0 or near 1, so does its new state come mostly from the "
            "candidate or from s_{t-1}? Try other units with the picker.",
            Live("seq2seq", {"preset": ATTENDING, "input": LONG, "t": 20, "panel": "cell"}),
        ),
    ),
)

ATTENTION = Lesson(
    "attention",
    "Attention: beyond a fixed-size context",
    "Instead of squeezing the sentence into one vector, let every decoder step look back at all the "
    "encoder's states and take a weighted mix of them.",
    (
        Step(
            "The bottleneck",
            (
                "A single context vector has the same size for a three-word sentence and a thirty-word one. "
                "The longer the source, the more the encoder must cram into it, and the first words have "
                "passed through the most steps by the time it is read.",
                "Attention keeps every encoder state h_1 … h_S as a memory the decoder may consult, so "
                "nothing has to survive only inside the final state.",
            ),
            "Step through the encoder: every column's state stays available to the decoder, not just the "
            "last one.",
            Live("seq2seq", {"input": WATCHING, "t": 0}),
        ),
        Step(
            "The bottleneck, measured",
            (
                "The same GRU encoder-decoder was trained twice on sentences of 3 to 19 words, once without "
                "attention and once with it: the same size, recipe and data. Without attention, this "
                "18-word sentence comes out wrong from the fifth word on; the table at the bottom of the page "
                "shows why it is not bad luck: the longer the sentence, the fewer come out right.",
                "Follow the link under the two outputs to the model with attention: the same sentence, every "
                "word right.",
            ),
            "Read the accuracy table by source length: where does the model without attention stop getting "
            "whole sentences right?",
            Live("seq2seq", {"preset": PLAIN, "input": LONG, "t": 18}),
        ),
        Step(
            "Scores, weights, context",
            (
                "At decoder step t the model scores each encoder state against its current state, here with "
                "a dot product s_t · h_j. A softmax turns the scores into weights that sum to 1, and the "
                "weighted sum of the encoder states is a context made for this step only.",
                "The “This step” panel lists the weights of the current decoder step, one per source word, "
                "and the heatmap below collects the rows of every step so far; darker orange means more "
                "weight.",
            ),
            "Step to the decoder column that writes “regardent”: which source word gets most of the weight?",
            Live("seq2seq", {"input": WATCHING, "t": 5}),
            ("a_tj = softmax_j(s_t · h_j)", "ctx_t = Σ_j a_tj h_j", "o_t = tanh(W_c [ctx_t; s_t] + b_c)"),
        ),
        Step(
            "Reading the alignment",
            (
                "Row by row, the attention heatmap shows where each output word looked. "
                "Nobody told the model which words correspond; it learnt to look wherever it helped to "
                "translate. Sometimes that is the matching word, sometimes not: in “She sees the dog .” "
                "the model looks at the full stop while writing “Elle”, and splits “chien” between “She” and "
                "“dog”.",
                "Attention is what made neural translation work on long sentences, and its idea, looking "
                "back at every position with learnt weights, is the seed of the Transformer.",
            ),
            "Read the table row by row. Which output words look at the word they translate, and which "
            "do not?",
            Live("seq2seq", {"input": DOG, "t": 10}),
        ),
    ),
)

LESSONS = (ENCODER_DECODER, ATTENTION)
