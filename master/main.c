/* main.c - tlsd entry point (placeholder while the master is built). */
#include "autoconfig.h"

#include <stdio.h>

int main(void)
{
	printf("%s\n", PACKAGE_STRING);
	return 0;
}
