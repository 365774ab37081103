// text/sentences: where a sentence ends, and what is kept around it.
#include "upm/text/sentences.h"

#include <gtest/gtest.h>

namespace {

using upm::split_sentences;
using Sentences = std::vector<std::string>;

TEST(Sentences, SplitOnSentenceEnds) {
  EXPECT_EQ(split_sentences("Likes a and b. Dislikes c.  Prefers v1.2 answers!"),
            (Sentences{"Likes a and b.", "Dislikes c.", "Prefers v1.2 answers!"}));
  EXPECT_EQ(split_sentences("Why? Because.\nNext"), (Sentences{"Why?", "Because.", "Next"}));
  EXPECT_EQ(split_sentences("no end"), (Sentences{"no end"}));
  EXPECT_TRUE(split_sentences(" \n").empty());
  EXPECT_TRUE(split_sentences("").empty());
}

TEST(Sentences, OnlyLeadingSpacesAndNewlinesAreCut) {
  // Callers that want more trimmed (profile facts) trim each sentence.
  EXPECT_EQ(split_sentences("A.\n\tB \n"), (Sentences{"A.", "\tB \n"}));
}

}  // namespace
