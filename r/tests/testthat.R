library(testthat)
library(darkfigure)
test_check("darkfigure")
